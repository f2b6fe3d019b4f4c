package com.foobar.core;

import io.undertow.protocols.alpn.ALPNProvider;
import javax.net.ssl.SSLEngine;
import org.wildfly.openssl.OpenSSLEngine;

/**
 * ALPN for OpenSSL's engines inside a {@link MeteredSslEngine}. Undertow's own OpenSSL provider
 * recognises the engine by its class name only, so for the wrapper it would fall back to the JDK's
 * {@code SSLParameters} route, which wildfly-openssl ignores: no h2. Found by Undertow's {@code
 * ServiceLoader} (hence public); ranks above Undertow's providers.
 */
public final class OpenSslAlpn implements ALPNProvider {
  /** For the {@code ServiceLoader}. */
  public OpenSslAlpn() {}

  @Override
  public boolean isEnabled(SSLEngine engine) {
    return engine instanceof MeteredSslEngine m && m.delegate() instanceof OpenSSLEngine;
  }

  @Override
  public SSLEngine setProtocols(SSLEngine engine, String[] protocols) {
    openSsl(engine).setApplicationProtocols(protocols);
    return engine;
  }

  @Override
  public String getSelectedProtocol(SSLEngine engine) {
    return openSsl(engine).getSelectedApplicationProtocol();
  }

  @Override
  public int getPriority() {
    return 500;
  }

  private static OpenSSLEngine openSsl(SSLEngine engine) {
    return (OpenSSLEngine) ((MeteredSslEngine) engine).delegate();
  }
}
