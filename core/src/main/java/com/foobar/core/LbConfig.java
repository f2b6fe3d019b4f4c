package com.foobar.core;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * Role {@code lb}: TLS termination and balancing. The role itself is not built yet; its section is
 * part of the site's configuration contract and is validated like every other section.
 *
 * @param https the HTTPS listener address
 * @param http the plain HTTP listener (redirects to https)
 * @param admin the admin listener ({@code /health /ready /metrics /stats})
 * @param adminAccess who may reach the admin listener
 * @param tls certificate and key; empty means a self-signed certificate for {@code site}
 * @param allow CIDRs allowed on the public listeners
 * @param deny CIDRs refused on the public listeners (deny wins over allow)
 * @param backends backend base URLs: absolute {@code http}/{@code https} URLs, at least one
 */
public record LbConfig(
    HostPort https,
    HostPort http,
    HostPort admin,
    AccessConfig adminAccess,
    Optional<TlsConfig> tls,
    List<Cidr> allow,
    List<Cidr> deny,
    @Bind.NonEmpty List<URI> backends) {}
