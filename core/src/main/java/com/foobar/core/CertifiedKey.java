package com.foobar.core;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A certificate chain (leaf first) and the private key of its leaf.
 *
 * @param chain the leaf, then the intermediates; never empty
 * @param key the leaf's private key
 */
public record CertifiedKey(List<X509Certificate> chain, PrivateKey key) {
  public CertifiedKey {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain needs at least the leaf");
    }
  }

  /**
   * Reads {@code tls.cert()} (the chain, e.g. certbot's {@code fullchain.pem}) and {@code
   * tls.key()} (PKCS#8, PKCS#1 or SEC1; RSA or ECDSA) and checks that the key belongs to the leaf.
   *
   * @param configKey the key that named them, e.g. {@code lb.tls}; messages name {@code
   *     lb.tls.cert} or {@code lb.tls.key} and the file
   * @throws TlsMaterialException naming the key, the file and the problem
   */
  public static CertifiedKey load(String configKey, TlsConfig tls) {
    return load(configKey, tls.cert(), tls.key());
  }

  /** As {@link #load(String, TlsConfig)} with the two paths. */
  public static CertifiedKey load(String configKey, Path cert, Path key) {
    List<X509Certificate> chain = Pem.readCertificates(configKey + ".cert", cert);
    PrivateKey privateKey = Pem.readPrivateKey(configKey + ".key", key);
    if (!matches(privateKey, chain.get(0).getPublicKey())) {
      throw new TlsMaterialException(
          configKey
              + ": the private key in "
              + key
              + " does not belong to the first certificate in "
              + cert
              + " ("
              + chain.get(0).getSubjectX500Principal().getName()
              + ")");
    }
    return new CertifiedKey(chain, privateKey);
  }

  /**
   * A self-signed ECDSA P-256 certificate valid for one year from {@code clock}'s now, for {@code
   * site}, {@code localhost} and {@code 127.0.0.1}.
   */
  public static CertifiedKey selfSigned(String site, Clock clock) {
    return Certificates.selfSigned(site, clock.instant());
  }

  /** The leaf certificate. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** The leaf's subject alternative names of type DNS and IP, as written in the certificate. */
  public List<String> names() {
    return names(leaf());
  }

  static List<String> names(X509Certificate cert) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 2 || type == 7) { // dNSName, iPAddress
            names.add((String) san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // a certificate whose SAN extension does not parse answers to no name
      return List.of();
    }
    return names;
  }

  private static boolean matches(PrivateKey key, PublicKey publicKey) {
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm();
        };
    byte[] probe = "foobar key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] signature = s.sign();
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(publicKey);
      v.update(probe);
      return v.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
