package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's {@code testssl.sh} against the real jar's {@code lb.https} (the generated ECDSA
 * certificate, then an RSA one from PEM files; a python3 backend): no vulnerabilities, TLS 1.2 and
 * 1.3 only, forward-secret AEAD suites only.
 */
class TlsScanIT {
  /**
   * testssl.sh's severities that are a problem; {@code OK}, {@code INFO} and {@code LOW} are not.
   */
  private static final Set<String> BAD = Set.of("MEDIUM", "HIGH", "CRITICAL");

  /**
   * Findings of the certificate section that only say nobody vouches for a self-signed certificate:
   * they go away with a CA-issued certificate in {@code lb.tls} and say nothing about the TLS
   * policy. (OCSP stapling, certificate transparency, CAA and HSTS preloading are reported too, but
   * as INFO, so they need no exemption.)
   */
  private static final Set<String> SELF_SIGNED_ONLY =
      Set.of(
          // "failed (self signed)": no chain to a trusted root
          "cert_chain_of_trust",
          // "Neither CRL nor OCSP URI provided": a self-signed certificate cannot be revoked
          "cert_revocation");

  @TempDir Path dir;

  @Test
  void testssl_findsNoVulnerability_andOnlyTls12And13WithForwardSecretAeadSuites()
      throws Exception {
    // no lb.tls: the generated self-signed certificate, ECDSA P-256
    Map<String, Map<String, Finding>> scan = scanLb("", "ECDSA");
    assertThat(text(scan.get("serverDefaults"), "cert_keySize")).startsWith("EC 256");
  }

  @Test
  void testssl_rsaCertificateFromPemFiles_findsNoVulnerability_andTheSamePolicy() throws Exception {
    // as certbot writes them: the chain and the key in PEM files (here one self-signed RSA 3072)
    Path cert = dir.resolve("fullchain.pem");
    Path key = dir.resolve("privkey.pem");
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:3072",
                "-nodes",
                "-days",
                "365",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(openssl.getInputStream().readAllBytes());
    assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(openssl.exitValue()).as(out).isZero();

    Map<String, Map<String, Finding>> scan =
        scanLb("  tls: {cert: %s, key: %s}\n".formatted(cert, key), "RSA");
    assertThat(text(scan.get("serverDefaults"), "cert_keySize")).startsWith("RSA 3072");
  }

  @Test
  void testssl_opensslEngine_findsNoVulnerability_andTheSamePolicy() throws Exception {
    // the self-signed ECDSA P-256 certificate, served by the system's OpenSSL
    Map<String, Map<String, Finding>> scan = scanLb("  tls-engine: openssl\n", "ECDSA");
    assertThat(text(scan.get("serverDefaults"), "cert_keySize")).startsWith("EC 256");
  }

  /**
   * Scans an lb started with {@code tlsYaml} (lines of its {@code lb} section) in front of a
   * python3 backend and asserts the policy; {@code authentication} is the certificate's key type in
   * the TLS 1.2 suite names ({@code ECDSA}, {@code RSA}).
   */
  private Map<String, Map<String, Finding>> scanLb(String tlsYaml, String authentication)
      throws Exception {
    Path site = Files.createDirectories(dir.resolve("site"));
    Files.writeString(site.resolve("ready"), "ok\n");
    Files.writeString(site.resolve("index.html"), "<html>hello</html>\n");
    int backend = JarProcess.freePort();
    int https = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            lb:
              https: 127.0.0.1:%d
              http: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              backends: [http://127.0.0.1:%d]
            """
                    .formatted(https, JarProcess.freePort(), admin, backend)
                + tlsYaml);
    Process origin =
        new ProcessBuilder(
                "python3",
                "-m",
                "http.server",
                String.valueOf(backend),
                "--bind",
                "127.0.0.1",
                "--directory",
                site.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("origin.log").toFile())
            .start();
    try (JarProcess jar = JarProcess.start(dir, "--role=lb", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      JarProcess.awaitBackendsUp("http://127.0.0.1:" + admin + "/stats?format=json", 1);

      Map<String, Map<String, Finding>> scan = testssl(https);

      Map<String, Finding> protocols = scan.get("protocols");
      for (String id : List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1")) {
        assertThat(text(protocols, id)).as(id).isEqualTo("not offered");
      }
      for (String id : List.of("TLS1_2", "TLS1_3")) {
        assertThat(text(protocols, id)).as(id).startsWith("offered");
      }
      assertThat(text(protocols, "ALPN_HTTP2")).isEqualTo("h2");

      Map<String, Finding> categories = scan.get("ciphers");
      for (String id :
          List.of("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE" /* obsolete CBC */)) {
        assertThat(text(categories, "cipherlist_" + id)).as(id).isEqualTo("not offered");
      }
      assertThat(text(scan.get("pfs"), "PFS")).isEqualTo("offered");

      // every suite offered, per protocol (-E): "TLS 1.2  xc02c  ECDHE-ECDSA-AES256-GCM-SHA384 ...
      // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", the IANA name last
      List<String> suites = new ArrayList<>();
      scan.get("cipherTests").values().stream()
          .map(f -> f.text().substring(f.text().lastIndexOf(' ') + 1))
          .forEach(suites::add);
      assertThat(suites).anyMatch(s -> s.startsWith("TLS_ECDHE_" + authentication + "_"));
      assertThat(suites).anyMatch(s -> s.startsWith("TLS_AES_"));
      assertThat(suites)
          .allSatisfy(
              s -> {
                // TLS 1.3 suites (no key exchange in the name) are always ephemeral
                assertThat(s)
                    .as("forward secret")
                    .matches("TLS_(ECDHE|DHE)_.*|TLS_(AES|CHACHA20)_.*");
                assertThat(s).as("AEAD").containsAnyOf("_GCM_", "_CHACHA20_POLY1305_", "_CCM");
              });

      assertThat(scan.get("vulnerabilities"))
          .containsKeys("heartbleed", "ROBOT", "secure_client_renego", "BEAST", "LUCKY13")
          .allSatisfy(
              (id, f) ->
                  assertThat(f.severity())
                      .as(id + ": " + f.text())
                      .isNotIn(BAD)
                      // a check that could not run proves nothing
                      .isNotIn("WARN", "FATAL"));

      assertThat(scan.get("serverDefaults"))
          .containsKeys(SELF_SIGNED_ONLY.toArray(String[]::new))
          .allSatisfy(
              (id, f) -> {
                if (!SELF_SIGNED_ONLY.contains(id)) {
                  assertThat(f.severity()).as(id + ": " + f.text()).isNotIn(BAD);
                }
              });
      // the lb's own header; the other security headers (CSP, X-Frame-Options...) are the site's
      assertThat(scan.get("headerResponse")).containsKey("HSTS_time");
      assertThat(scan.get("headerResponse").get("HSTS_time").severity()).isEqualTo("OK");
      assertThat(jar.terminate()).isZero();
      return scan;
    } finally {
      origin.destroy();
      origin.waitFor(10, TimeUnit.SECONDS);
    }
  }

  record Finding(String severity, String text) {}

  private static String text(Map<String, Finding> section, String id) {
    assertThat(section).containsKey(id);
    return section.get(id).text();
  }

  /**
   * Runs {@code testssl} (protocols, cipher categories, forward secrecy, suites per protocol,
   * certificate, headers, vulnerabilities; no DNS, nothing fetched from the internet) against
   * 127.0.0.1:{@code port}, bounded to 6 minutes, and returns its findings by section and id.
   */
  private Map<String, Map<String, Finding>> testssl(int port) throws Exception {
    Path json = dir.resolve("testssl.json");
    Path log = dir.resolve("testssl.log");
    Process p =
        new ProcessBuilder(
                "testssl",
                "--quiet",
                "--color",
                "0",
                "--warnings",
                "off",
                "--nodns",
                "none",
                "--connect-timeout",
                "10",
                "--openssl-timeout",
                "10",
                "--jsonfile-pretty",
                json.toString(),
                "--protocols",
                "--std",
                "--fs",
                "--cipher-per-proto",
                "--server-defaults",
                "--headers",
                "--vulnerable",
                "https://127.0.0.1:" + port)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(6, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError(
          "testssl did not finish within 6 minutes:\n" + Files.readString(log));
    }
    assertThat(json).as(Files.readString(log)).exists();
    JsonNode result = new ObjectMapper().readTree(json.toFile()).path("scanResult").path(0);
    Map<String, Map<String, Finding>> sections = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> section : result.properties()) {
      if (section.getValue().isArray()) {
        Map<String, Finding> findings = new LinkedHashMap<>();
        for (JsonNode f : section.getValue()) {
          findings.put(
              f.path("id").asText(),
              new Finding(f.path("severity").asText(), f.path("finding").asText()));
        }
        sections.put(section.getKey(), findings);
      }
    }
    assertThat(sections.get("protocols"))
        .as("testssl reached the lb: " + Files.readString(log))
        .isNotEmpty();
    return sections;
  }
}
