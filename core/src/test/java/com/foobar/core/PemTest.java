package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PemTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"RSA", "EC"})
  void traditionalKeyFormat_roundTrip(String algorithm) throws Exception {
    CertifiedKey k = TlsTesting.selfSigned(algorithm, "a.test");
    TlsConfig files = TlsTesting.write(dir, "a", k);
    Files.writeString(files.key(), TlsTesting.traditional(k.key()));
    assertThat(Files.readString(files.key()))
        .startsWith(algorithm.equals("RSA") ? "-----BEGIN RSA PRIVATE KEY" : "-----BEGIN EC");

    CertifiedKey loaded = CertifiedKey.load("lb.tls", files);

    assertThat(secret(loaded.key())).isEqualTo(secret(k.key()));
    assertThat(loaded.chain()).isEqualTo(k.chain());
    assertThat(loaded.names()).containsExactly("a.test");
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA", "EC"})
  void pkcs8Key_roundTrip(String algorithm) throws Exception {
    CertifiedKey k = TlsTesting.selfSigned(algorithm, "a.test");
    TlsConfig files = TlsTesting.write(dir, "a", k);
    assertThat(Files.readString(files.key())).startsWith("-----BEGIN PRIVATE KEY");

    assertThat(secret(CertifiedKey.load("lb.tls", files).key())).isEqualTo(secret(k.key()));
  }

  private static java.math.BigInteger secret(java.security.PrivateKey key) {
    return key instanceof java.security.interfaces.ECPrivateKey ec
        ? ec.getS()
        : ((java.security.interfaces.RSAPrivateKey) key).getPrivateExponent();
  }

  @Test
  void keyFileWithoutKey_errorNamesKeyAndFile() throws Exception {
    TlsConfig files = TlsTesting.write(dir, "a", TlsTesting.selfSigned("EC", "a.test"));
    assertThatThrownBy(() -> CertifiedKey.load("lb.tls", files.cert(), files.cert()))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessage("lb.tls.key: " + files.cert() + " holds no private key");
  }

  @Test
  void certFileWithGarbage_errorNamesCertAndFile() throws Exception {
    TlsConfig files = TlsTesting.write(dir, "a", TlsTesting.selfSigned("EC", "a.test"));
    Files.writeString(files.cert(), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n");
    assertThatThrownBy(() -> CertifiedKey.load("lb.tls", files))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageStartingWith("lb.tls.cert: " + files.cert());
  }

  @Test
  void keyOfAnotherCertificate_isAMismatch() throws Exception {
    TlsConfig a = TlsTesting.write(dir, "a", TlsTesting.selfSigned("EC", "a.test"));
    TlsConfig b = TlsTesting.write(dir, "b", TlsTesting.selfSigned("EC", "b.test"));
    assertThatThrownBy(() -> CertifiedKey.load("lb.sni[0]", a.cert(), b.key()))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining("lb.sni[0]: the private key in " + b.key())
        .hasMessageContaining("does not belong to the first certificate in " + a.cert());
  }

  @Test
  void selfSigned_namesSiteLocalhostAndLoopback() {
    CertifiedKey k = CertifiedKey.selfSigned("www.foobar.com", Clock.systemUTC());
    assertThat(k.names()).containsExactly("www.foobar.com", "localhost", "127.0.0.1");
    assertThat(k.leaf().getSigAlgName()).isEqualTo("SHA256withECDSA");
  }

  @Test
  void internalCa_issuesNodeCertificatesChainingToIt() throws Exception {
    Path certs = dir.resolve("certs");
    List<Path> ca = InternalCa.init(certs, Clock.systemUTC());
    assertThat(ca).containsExactly(certs.resolve("ca.pem"), certs.resolve("ca-key.pem"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.get(1))))
        .isEqualTo("rw-------");

    List<Path> node =
        InternalCa.issue(certs, "backend1", List.of("10.0.0.11", "b1.internal"), Clock.systemUTC());

    CertifiedKey k = CertifiedKey.load("node", node.get(0), node.get(1));
    assertThat(k.names()).containsExactly("10.0.0.11", "b1.internal");
    assertThat(k.chain()).hasSize(2);
    k.leaf().verify(k.chain().get(1).getPublicKey());
    assertThat(k.leaf().getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(k.chain().get(1).getBasicConstraints()).isEqualTo(0);
    assertThatThrownBy(() -> InternalCa.init(certs, Clock.systemUTC()))
        .hasMessageContaining("refusing to overwrite");
  }

  @Test
  void issue_withoutCa_orBadName_isRefused() {
    assertThatThrownBy(() -> InternalCa.issue(dir, "n1", List.of("a.test"), Clock.systemUTC()))
        .hasMessageContaining("run certs init");
    assertThatThrownBy(() -> InternalCa.issue(dir, "../x", List.of("a.test"), Clock.systemUTC()))
        .hasMessageStartingWith("--name: '../x'");
  }
}
