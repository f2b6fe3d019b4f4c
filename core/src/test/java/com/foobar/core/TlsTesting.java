package com.foobar.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates and TLS clients for tests on loopback. */
final class TlsTesting {
  static {
    // the JDK's own client refuses TLS 1.0/1.1 before the server could: let it offer them, so
    // that the server's policy is what refuses them
    Security.setProperty(
        "jdk.tls.disabledAlgorithms",
        Security.getProperty("jdk.tls.disabledAlgorithms")
            .replaceAll("TLSv1\\.1,?\\s*", "")
            .replaceAll("TLSv1,\\s*", ""));
  }

  private TlsTesting() {}

  static void init() {
    // runs the static initializer
  }

  static final HttpLimits LIMITS =
      new HttpLimits(
          DataSize.parse("1KiB"),
          DataSize.parse("2KiB"),
          10,
          Duration.ofSeconds(2),
          Duration.ofSeconds(5),
          DataSize.parse("1MiB"));

  /** A self-signed certificate for {@code names} with a JDK-generated key of {@code algorithm}. */
  static CertifiedKey selfSigned(String algorithm, String... names) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
    g.initialize(algorithm.equals("RSA") ? 2048 : 256);
    KeyPair pair = g.generateKeyPair();
    X500Name subject = new X500Name("CN=" + names[0]);
    Instant now = Instant.now();
    GeneralName[] sans = new GeneralName[names.length];
    for (int i = 0; i < names.length; i++) {
      sans[i] = new GeneralName(GeneralName.dNSName, names[i]);
    }
    var b =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minusSeconds(60)),
            Date.from(now.plusSeconds(3600)),
            subject,
            pair.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
    String signature = algorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    X509Certificate cert =
        new JcaX509CertificateConverter()
            .getCertificate(
                b.build(new JcaContentSignerBuilder(signature).build(pair.getPrivate())));
    return new CertifiedKey(List.of(cert), pair.getPrivate());
  }

  /**
   * {@code key} as PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}), as openssl.
   */
  static String traditional(java.security.PrivateKey key) throws IOException {
    var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getEncoded());
    java.io.StringWriter out = new java.io.StringWriter();
    try (var w = new org.bouncycastle.util.io.pem.PemWriter(out)) {
      if (key.getAlgorithm().equals("RSA")) {
        w.writeObject(
            new org.bouncycastle.util.io.pem.PemObject(
                "RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
      } else {
        var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        var sec1 =
            new org.bouncycastle.asn1.sec.ECPrivateKey(
                256,
                inner.getKey(),
                inner.getPublicKey(),
                info.getPrivateKeyAlgorithm().getParameters());
        w.writeObject(
            new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
      }
    }
    return out.toString();
  }

  /** Writes chain and key as PEM files {@code name.pem} and {@code name-key.pem} in {@code dir}. */
  static TlsConfig write(Path dir, String name, CertifiedKey k) throws IOException {
    Path cert = dir.resolve(name + ".pem");
    Path key = dir.resolve(name + "-key.pem");
    Pem.write(cert, Pem.text(k.chain().toArray()), false, true);
    Pem.write(key, Pem.text(k.key()), true, true);
    return new TlsConfig(cert, key);
  }

  /** A client context trusting everything (the tests look at what the server presented). */
  static SSLContext client(java.util.Optional<CertifiedKey> own) throws GeneralSecurityException {
    SSLContext c = SSLContext.getInstance("TLS");
    javax.net.ssl.KeyManager[] kms = null;
    if (own.isPresent()) {
      KeyStore ks;
      try {
        ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
      } catch (IOException e) {
        throw new GeneralSecurityException(e);
      }
      ks.setKeyEntry(
          "me", own.get().key(), new char[0], own.get().chain().toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, new char[0]);
      kms = kmf.getKeyManagers();
    }
    c.init(kms, new TrustManager[] {new TrustAll()}, null);
    return c;
  }

  /** A client context that trusts only {@code ca}'s certificate. */
  static SSLContext trusting(X509Certificate ca) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext c = SSLContext.getInstance("TLS");
    c.init(null, tmf.getTrustManagers(), null);
    return c;
  }

  /**
   * Connects, handshakes (optionally restricted to {@code protocols} / {@code suites}, with SNI
   * {@code sni}), sends a GET and returns the socket's session leaf and the response's first line.
   */
  static Result get(
      SSLContext context, int port, String sni, List<String> protocols, List<String> suites)
      throws IOException {
    try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      SSLParameters p = s.getSSLParameters();
      if (sni != null) {
        p.setServerNames(List.of(new SNIHostName(sni)));
      }
      if (!protocols.isEmpty()) {
        p.setProtocols(protocols.toArray(String[]::new));
      }
      if (!suites.isEmpty()) {
        p.setCipherSuites(suites.toArray(String[]::new));
      }
      s.setSSLParameters(p);
      s.startHandshake();
      X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
      s.getOutputStream()
          .write(
              "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      s.getInputStream().transferTo(out);
      String response = out.toString(StandardCharsets.ISO_8859_1);
      int eol = response.indexOf("\r\n");
      return new Result(
          leaf, s.getSession().getProtocol(), eol < 0 ? response : response.substring(0, eol));
    }
  }

  record Result(X509Certificate leaf, String protocol, String statusLine) {}

  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
