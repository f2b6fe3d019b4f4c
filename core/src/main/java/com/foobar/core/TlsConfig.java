package com.foobar.core;

import java.nio.file.Path;

/**
 * PEM certificate chain and private key, as certbot writes them.
 *
 * @param cert the certificate chain ({@code fullchain.pem}); must be readable
 * @param key the private key ({@code privkey.pem}); must be readable
 */
public record TlsConfig(Path cert, Path key) {}
