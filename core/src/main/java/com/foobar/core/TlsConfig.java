package com.foobar.core;

import java.nio.file.Path;

/**
 * PEM certificate chain and private key, as certbot writes them.
 *
 * @param cert the certificate chain ({@code fullchain.pem}); must be a readable file, relative
 *     paths resolve against the config file's directory
 * @param key the private key ({@code privkey.pem}); must be a readable file, relative paths resolve
 *     against the config file's directory
 */
public record TlsConfig(
    @Bind.Check(Bind.PathCheck.READABLE_FILE) Path cert,
    @Bind.Check(Bind.PathCheck.READABLE_FILE) Path key) {}
