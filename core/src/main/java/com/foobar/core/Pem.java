package com.foobar.core;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM files: BouncyCastle parses and writes the text; the JDK's own providers make the keys and
 * certificates (BouncyCastle is never registered as a JCE provider: the fat jar carries no jar
 * signatures, and an unsigned provider cannot be used for everything).
 */
final class Pem {
  private static final Map<ASN1ObjectIdentifier, String> KEY_ALGORITHMS =
      Map.of(
          PKCSObjectIdentifiers.rsaEncryption, "RSA",
          PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
          X9ObjectIdentifiers.id_ecPublicKey, "EC",
          EdECObjectIdentifiers.id_Ed25519, "Ed25519");

  private Pem() {}

  /**
   * The certificates of {@code file} in file order (leaf first, as {@code fullchain.pem} has them).
   *
   * @param key the configuration key or option that named the file, for messages
   * @throws TlsMaterialException when the file cannot be read or holds no certificate
   */
  static List<X509Certificate> readCertificates(String key, Path file) {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    for (Object o : objects(key, file)) {
      if (o instanceof X509CertificateHolder holder) {
        try {
          chain.add(converter.getCertificate(holder));
        } catch (CertificateException e) {
          throw new TlsMaterialException(
              key + ": " + file + " holds a certificate the JDK cannot read: " + e.getMessage(), e);
        }
      }
    }
    if (chain.isEmpty()) {
      throw new TlsMaterialException(key + ": " + file + " holds no PEM certificate");
    }
    return List.copyOf(chain);
  }

  /**
   * The private key of {@code file}: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY})
   * or SEC1 ({@code EC PRIVATE KEY}), unencrypted.
   *
   * @throws TlsMaterialException when the file cannot be read, holds no key, or an encrypted one
   */
  static PrivateKey readPrivateKey(String key, Path file) {
    for (Object o : objects(key, file)) {
      PrivateKeyInfo info = null;
      if (o instanceof PrivateKeyInfo i) {
        info = i;
      } else if (o instanceof PEMKeyPair pair) {
        info = pair.getPrivateKeyInfo();
      } else if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
        throw new TlsMaterialException(
            key + ": " + file + " holds an encrypted private key; foobar needs it unencrypted");
      }
      if (info != null) {
        ASN1ObjectIdentifier oid = info.getPrivateKeyAlgorithm().getAlgorithm();
        String algorithm = KEY_ALGORITHMS.get(oid);
        if (algorithm == null) {
          throw new TlsMaterialException(
              key + ": " + file + " holds a private key of unsupported algorithm " + oid);
        }
        try {
          return KeyFactory.getInstance(algorithm)
              .generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
          throw new TlsMaterialException(
              key
                  + ": "
                  + file
                  + " holds a broken "
                  + algorithm
                  + " private key: "
                  + e.getMessage(),
              e);
        }
      }
    }
    throw new TlsMaterialException(key + ": " + file + " holds no private key");
  }

  private static List<Object> objects(String key, Path file) {
    List<Object> objects = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(r)) {
      Object o;
      while ((o = parser.readObject()) != null) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      // BouncyCastle reports malformed PEM or DER as IOException or as unchecked exceptions
      throw new TlsMaterialException(
          key + ": " + file + " cannot be read as PEM: " + e.getMessage(), e);
    }
    return objects;
  }

  /** {@code objects} (certificates, keys) as PEM text; private keys as PKCS#8. */
  static String text(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        if (o instanceof PrivateKey key) {
          // the traditional forms would lose the EC curve: the JDK encodes it in PKCS#8 only
          w.writeObject(new JcaPKCS8Generator(key, null));
        } else {
          w.writeObject(o);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("writing PEM to memory failed", e);
    }
    return out.toString();
  }

  /**
   * Writes {@code text} to {@code file} in one step (a temporary file in the same directory, then
   * an atomic move), so that a watcher never sees half a file.
   *
   * @param secret whether only the owner may read it (mode 600, where the file system has modes)
   * @param overwrite whether an existing file is replaced
   * @throws FileAlreadyExistsException when it exists and {@code overwrite} is false
   */
  static void write(Path file, String text, boolean secret, boolean overwrite) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    if (!overwrite && Files.exists(file)) {
      throw new FileAlreadyExistsException(file.toString());
    }
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      if (secret && dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      }
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
        w.write(text);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
