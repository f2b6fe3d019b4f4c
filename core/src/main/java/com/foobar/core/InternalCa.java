package com.foobar.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The internal CA that signs the certificates the tiers use towards each other (mTLS between lb and
 * backends). Files in its directory, all PEM: {@code ca.pem} (the CA certificate, the trust anchor
 * every node gets), {@code ca-key.pem} (its key, mode 600; keep it off the nodes), {@code NAME.pem}
 * (a node's certificate followed by the CA certificate) and {@code NAME-key.pem} (the node's key,
 * mode 600). Keys are ECDSA P-256; the CA is valid 10 years, node certificates 1 year.
 */
public final class InternalCa {
  /** File name of the CA certificate. */
  public static final String CA_CERT = "ca.pem";

  /** File name of the CA's private key. */
  public static final String CA_KEY = "ca-key.pem";

  private static final Pattern NODE_NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,62})");

  private InternalCa() {}

  /**
   * Creates a new CA in {@code dir} (created when missing).
   *
   * @return the files written
   * @throws TlsMaterialException when {@code dir} already holds a CA certificate or key (it is
   *     never overwritten: every node certificate depends on it)
   * @throws UncheckedIOException when the files cannot be written
   */
  public static List<Path> init(Path dir, Clock clock) {
    Path cert = dir.resolve(CA_CERT);
    Path key = dir.resolve(CA_KEY);
    for (Path p : List.of(cert, key)) {
      if (Files.exists(p)) {
        throw new TlsMaterialException(
            p + " already exists: refusing to overwrite the CA (node certificates depend on it)");
      }
    }
    CertifiedKey ca = Certificates.ca("foobar internal CA", clock.instant());
    try {
      Pem.write(key, Pem.text(ca.key()), true, false);
      Pem.write(cert, Pem.text(ca.leaf()), false, false);
    } catch (IOException e) {
      throw new UncheckedIOException("writing the CA to " + dir + " failed: " + e.getMessage(), e);
    }
    return List.of(cert, key);
  }

  /**
   * Issues a node certificate signed by the CA in {@code dir}, for TLS server and client use.
   * Existing files of the same name are replaced (re-issuing renews a node).
   *
   * @param name the node's name: lower-case letters, digits, {@code . _ -}; the files are {@code
   *     NAME.pem} and {@code NAME-key.pem}, and it is the certificate's common name
   * @param sans the DNS names and IP addresses the certificate is valid for; at least one
   * @return the files written
   * @throws TlsMaterialException when the CA is missing or unreadable, or {@code name} or a SAN is
   *     invalid
   */
  public static List<Path> issue(Path dir, String name, List<String> sans, Clock clock) {
    if (!NODE_NAME.matcher(name).matches()) {
      throw new TlsMaterialException(
          "--name: '"
              + name
              + "' is not a node name (lower-case letters, digits, '.', '_', '-'; at most 64)");
    }
    if (sans.isEmpty()) {
      throw new TlsMaterialException("--san: at least one DNS name or IP address is needed");
    }
    Path caCert = dir.resolve(CA_CERT);
    Path caKey = dir.resolve(CA_KEY);
    if (!Files.isRegularFile(caCert) || !Files.isRegularFile(caKey)) {
      throw new TlsMaterialException(
          "no CA in "
              + dir.toAbsolutePath()
              + " ("
              + CA_CERT
              + ", "
              + CA_KEY
              + "): run certs init");
    }
    CertifiedKey ca = CertifiedKey.load("CA", caCert, caKey);
    CertifiedKey node;
    try {
      node = Certificates.issue(ca, name, sans, clock.instant());
    } catch (IllegalArgumentException e) {
      throw new TlsMaterialException(e.getMessage(), e);
    }
    Path cert = dir.resolve(name + ".pem");
    Path key = dir.resolve(name + "-key.pem");
    try {
      Pem.write(key, Pem.text(node.key()), true, true);
      Pem.write(cert, Pem.text(node.chain().toArray()), false, true);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + cert + " failed: " + e.getMessage(), e);
    }
    return List.of(cert, key);
  }
}
