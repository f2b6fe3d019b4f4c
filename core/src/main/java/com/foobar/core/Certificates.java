package com.foobar.core;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds ECDSA P-256 certificates with BouncyCastle's builder, signed by the JDK's SunEC provider.
 */
final class Certificates {
  static final Duration LEAF_VALIDITY = Duration.ofDays(365);
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  // backdated so that a peer whose clock is a little behind accepts a fresh certificate
  private static final Duration BACKDATE = Duration.ofHours(1);
  private static final Pattern DNS_NAME =
      Pattern.compile(
          "(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|.*:.*");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no EC P-256 key generator", e);
    }
  }

  static CertifiedKey selfSigned(String site, Instant now) {
    KeyPair pair = newKeyPair();
    X500Name name = name(site);
    X509Certificate cert =
        build(
            name,
            name,
            pair.getPublic(),
            pair.getPrivate(),
            now,
            LEAF_VALIDITY,
            false,
            sanNames("site", List.of(site, "localhost", "127.0.0.1")));
    return new CertifiedKey(List.of(cert), pair.getPrivate());
  }

  static CertifiedKey ca(String commonName, Instant now) {
    KeyPair pair = newKeyPair();
    X500Name name = name(commonName);
    X509Certificate cert =
        build(name, name, pair.getPublic(), pair.getPrivate(), now, CA_VALIDITY, true, null);
    return new CertifiedKey(List.of(cert), pair.getPrivate());
  }

  /** A node certificate (serverAuth + clientAuth) for {@code sans}, signed by {@code ca}. */
  static CertifiedKey issue(CertifiedKey ca, String name, List<String> sans, Instant now) {
    KeyPair pair = newKeyPair();
    X509Certificate cert =
        build(
            X500Name.getInstance(ca.leaf().getSubjectX500Principal().getEncoded()),
            name(name),
            pair.getPublic(),
            ca.key(),
            now,
            LEAF_VALIDITY,
            false,
            sanNames("--san", sans));
    return new CertifiedKey(List.of(cert, ca.leaf()), pair.getPrivate());
  }

  /**
   * SAN entries: IP literals as {@code iPAddress}, everything else as {@code dNSName}.
   *
   * @throws IllegalArgumentException naming {@code option} and the value when one is neither
   */
  static GeneralNames sanNames(String option, List<String> sans) {
    GeneralName[] names = new GeneralName[sans.size()];
    for (int i = 0; i < sans.size(); i++) {
      String san = sans.get(i).toLowerCase(Locale.ROOT);
      if (IP_LITERAL.matcher(san).matches()) {
        try {
          // a literal is parsed, never looked up
          InetAddress.getByName(san.replace("[", "").replace("]", ""));
        } catch (UnknownHostException e) {
          throw new IllegalArgumentException(
              option + ": '" + sans.get(i) + "' is not an IP address", e);
        }
        names[i] = new GeneralName(GeneralName.iPAddress, san.replace("[", "").replace("]", ""));
      } else if (DNS_NAME.matcher(san).matches() && san.length() <= 253) {
        names[i] = new GeneralName(GeneralName.dNSName, san);
      } else {
        throw new IllegalArgumentException(
            option + ": '" + sans.get(i) + "' is neither a DNS name nor an IP address");
      }
    }
    return new GeneralNames(names);
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "foobar")
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static X509Certificate build(
      X500Name issuer,
      X500Name subject,
      PublicKey publicKey,
      PrivateKey signer,
      Instant now,
      Duration validity,
      boolean ca,
      GeneralNames sans) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              issuer,
              new BigInteger(127, RANDOM).add(BigInteger.ONE),
              Date.from(now.minus(BACKDATE)),
              Date.from(now.plus(validity)),
              subject,
              publicKey);
      b.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
      if (ca) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(
            Extension.extendedKeyUsage,
            false,
            new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        b.addExtension(Extension.subjectAlternativeName, false, sans);
      }
      // no provider set: the JDK's SunEC signs
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new IllegalStateException("building a certificate failed", e);
    }
  }
}
