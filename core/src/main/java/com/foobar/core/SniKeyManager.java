package com.foobar.core;

import java.net.IDN;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Picks the server certificate by the client's SNI name: the first SNI certificate one of whose DNS
 * names matches (a wildcard {@code *.example.com} matches exactly one label), else the default. The
 * key material is swapped atomically by {@link #swap}; a handshake that chose an alias before a
 * swap still gets the chain and key of that alias.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
  /** The default certificate and the SNI ones, one generation of them. */
  record Material(long generation, CertifiedKey fallback, List<CertifiedKey> sni) {}

  private final AtomicReference<Material> current;
  private volatile Material previous;

  SniKeyManager(Material material) {
    current = new AtomicReference<>(material);
    previous = material;
  }

  void swap(Material next) {
    previous = current.getAndSet(next);
  }

  Material material() {
    return current.get();
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType, engine == null ? null : engine.getHandshakeSession());
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    SSLSession session =
        socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : (SSLSession) null;
    return choose(keyType, session);
  }

  private String choose(String keyType, SSLSession session) {
    Material m = current.get();
    Optional<String> host = sniHost(session);
    if (host.isPresent()) {
      boolean named = false;
      for (int i = 0; i < m.sni().size(); i++) {
        CertifiedKey k = m.sni().get(i);
        if (matchesAny(host.get(), k.names())) {
          if (fits(k, keyType)) {
            return m.generation() + ":" + i;
          }
          named = true;
        }
      }
      if (named) {
        // the JDK asks again with the client's next key type (EC first, then RSA): the named
        // certificate of the other type wins over the default
        return null;
      }
    }
    return fits(m.fallback(), keyType) ? m.generation() + ":default" : null;
  }

  private static boolean fits(CertifiedKey k, String keyType) {
    return k.key().getAlgorithm().equalsIgnoreCase(keyType);
  }

  private static Optional<String> sniHost(SSLSession session) {
    if (session instanceof ExtendedSSLSession extended) {
      for (SNIServerName name : extended.getRequestedServerNames()) {
        if (name.getType() == StandardConstants.SNI_HOST_NAME && name instanceof SNIHostName h) {
          return Optional.of(h.getAsciiName().toLowerCase(Locale.ROOT));
        }
      }
    }
    return Optional.empty();
  }

  static boolean matchesAny(String host, List<String> names) {
    for (String n : names) {
      String name = IDN.toASCII(n, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
      if (name.startsWith("*.")) {
        int dot = host.indexOf('.');
        if (dot > 0 && host.substring(dot).equals(name.substring(1))) {
          return true;
        }
      } else if (name.equals(host)) {
        return true;
      }
    }
    return false;
  }

  private CertifiedKey resolve(String alias) {
    int colon = alias == null ? -1 : alias.indexOf(':');
    if (colon < 0) {
      return null;
    }
    long generation = Long.parseLong(alias.substring(0, colon));
    Material m = current.get();
    if (m.generation() != generation) {
      m = previous;
      if (m.generation() != generation) {
        return null;
      }
    }
    String which = alias.substring(colon + 1);
    return which.equals("default") ? m.fallback() : m.sni().get(Integer.parseInt(which));
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    CertifiedKey k = resolve(alias);
    return k == null ? null : k.chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    CertifiedKey k = resolve(alias);
    return k == null ? null : k.key();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    Material m = current.get();
    List<String> aliases = new ArrayList<>();
    if (fits(m.fallback(), keyType)) {
      aliases.add(m.generation() + ":default");
    }
    for (int i = 0; i < m.sni().size(); i++) {
      if (fits(m.sni().get(i), keyType)) {
        aliases.add(m.generation() + ":" + i);
      }
    }
    return aliases.isEmpty() ? null : aliases.toArray(String[]::new);
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
