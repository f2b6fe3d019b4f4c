package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per kind of value problem, and the value types that bind. */
class ConfigBindingTest {
  @TempDir Path dir;

  private FoobarConfig load(String yaml) throws IOException {
    Path file = dir.resolve("foobar.yml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(Optional.of(file), Map.of());
  }

  private List<String> problems(String yaml) throws IOException {
    try {
      load(yaml);
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected a ConfigException for:\n" + yaml);
  }

  @Test
  void badDuration_reported() throws IOException {
    assertThat(problems("backend: {static: {memory-cache: {revalidate: soon}}}"))
        .containsExactly(
            "backend.static.memory-cache.revalidate:"
                + " expected a duration like 500ms, 2s or 1m, got 'soon'");
  }

  @Test
  void duration_withoutUnit_rejected() throws IOException {
    assertThat(problems("backend: {drain-timeout: 10}"))
        .containsExactly(
            "backend.drain-timeout: expected a duration like 500ms, 2s or 1m, got '10'"
                + " (a unit is required)");
  }

  @Test
  void duration_negative_rejected() throws IOException {
    assertThat(problems("backend: {limits: {idle-timeout: -2s}}"))
        .containsExactly("backend.limits.idle-timeout: must not be negative, got '-2s'");
  }

  @Test
  void duration_zero_rejected_whereMeaningless() throws IOException {
    assertThat(problems("backend: {limits: {request-header-timeout: 0s}}"))
        .containsExactly(
            "backend.limits.request-header-timeout: must be greater than zero, got '0s'");
  }

  @Test
  void duration_zero_allowedForRevalidate() throws IOException {
    assertThat(load("backend: {static: {memory-cache: {revalidate: 0s}}}"))
        .extracting(c -> c.backend().staticFiles().memoryCache().revalidate())
        .isEqualTo(Duration.ZERO);
  }

  @Test
  void duration_units_parsed() throws IOException {
    HttpLimits limits =
        load("backend: {limits: {request-header-timeout: 250ms, idle-timeout: 1h}, drain-timeout: 1m}")
            .backend()
            .limits();

    assertThat(limits.requestHeaderTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(limits.idleTimeout()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void portOutOfRange_reported() throws IOException {
    assertThat(problems("backend: {listen: '127.0.0.1:99999'}"))
        .containsExactly("backend.listen: port out of range 0-65535, got '127.0.0.1:99999'");
  }

  @Test
  void address_ipv6InBrackets_parsed() throws IOException {
    assertThat(load("monitor: {listen: '[::1]:9090'}").monitor().listen())
        .isEqualTo(new HostPort("::1", 9090));
  }

  @Test
  void malformedCidr_reported() throws IOException {
    assertThat(problems("lb: {allow: [10.0.0.0/8, 10.0.0.0/33]}"))
        .containsExactly("lb.allow[1]: malformed CIDR '10.0.0.0/33': prefix length must be 0-32");
  }

  @Test
  void notAnInteger_reported() throws IOException {
    assertThat(problems("backend: {limits: {max-headers: many}}"))
        .containsExactly("backend.limits.max-headers: expected an integer, got 'many'");
  }

  @Test
  void maxHeadersZero_reported() throws IOException {
    assertThat(problems("backend: {limits: {max-headers: 0}}"))
        .containsExactly("backend.limits.max-headers: must be at least 1, got '0'");
  }

  @Test
  void integer_fraction_rejected() throws IOException {
    assertThat(problems("backend: {limits: {max-headers: 1.5}}"))
        .containsExactly("backend.limits.max-headers: expected an integer, got '1.5'");
  }

  @Test
  void badSize_reported() throws IOException {
    assertThat(problems("backend: {limits: {max-header-size: lots}}"))
        .containsExactly(
            "backend.limits.max-header-size: expected a size like 512, 64KiB, 1MiB or 1GB,"
                + " got 'lots'");
  }

  @Test
  void size_zero_rejected_whereMeaningless() throws IOException {
    assertThat(problems("backend: {static: {memory-cache: {max-bytes: 0}}}"))
        .containsExactly(
            "backend.static.memory-cache.max-bytes: must be greater than zero, got '0'");
  }

  @Test
  void size_zero_allowedForGzipMinSize() throws IOException {
    assertThat(load("backend: {static: {gzip: {min-size: 0}}}").backend().staticFiles().gzip())
        .extracting(StaticConfig.GzipConfig::minSize)
        .isEqualTo(new DataSize(0));
  }

  @Test
  void boolean_onlyTrueOrFalse() throws IOException {
    assertThat(problems("backend: {static: {precompressed: yes, directory-listing: 1}}"))
        .containsExactly(
            "backend.static.directory-listing: expected true or false, got '1'",
            "backend.static.precompressed: expected true or false, got 'yes'");
  }

  @Test
  void enum_lowercase_bound() throws IOException {
    FoobarConfig config = load("backend: {access-log: {format: combined}}\nlogging: {level: warn}");

    assertThat(config.backend().accessLog().format()).isEqualTo(AccessLogConfig.Format.COMBINED);
    assertThat(config.logging().level()).isEqualTo(LoggingConfig.Level.WARN);
  }

  @Test
  void enum_uppercase_rejected() throws IOException {
    assertThat(problems("backend: {access-log: {format: JSON}}"))
        .containsExactly("backend.access-log.format: expected one of json, combined, got 'JSON'");
  }

  @Test
  void emptyString_rejected() throws IOException {
    assertThat(problems("site: ''")).containsExactly("site: must not be empty");
  }

  @Test
  void backendUrl_notHttp_rejected() throws IOException {
    assertThat(problems("lb: {backends: ['ftp://10.0.0.1/', '10.0.0.2:8443']}"))
        .containsExactly(
            "lb.backends[0].url: expected an absolute http or https URL like https://10.0.0.11:8443,"
                + " got 'ftp://10.0.0.1/'",
            "lb.backends[1].url: expected an absolute http or https URL like https://10.0.0.11:8443,"
                + " got '10.0.0.2:8443'");
  }

  @Test
  void backends_empty_rejected() throws IOException {
    assertThat(problems("lb: {backends: []}"))
        .containsExactly("lb.backends: must list at least one entry, got []");
  }

  @Test
  void tlsCert_unreadable_reported() throws IOException {
    Files.writeString(dir.resolve("privkey.pem"), "key");

    assertThat(problems("lb: {tls: {cert: /nope/fullchain.pem, key: privkey.pem}}"))
        .containsExactly("lb.tls.cert: cannot read file '/nope/fullchain.pem'");
  }

  @Test
  void staticRoot_notADirectory_reported() throws IOException {
    assertThat(problems("backend: {static: {root: /nope}}"))
        .containsExactly("backend.static.root: not a readable directory '/nope'");
  }

  @Test
  void accessLogFile_directoryMissing_reported() throws IOException {
    assertThat(problems("backend: {access-log: {file: /nope/access.log}}"))
        .containsExactly(
            "backend.access-log.file: directory of '/nope/access.log' does not exist or is not"
                + " writable");
  }

  @Test
  void emptyPath_rejected() throws IOException {
    assertThat(problems("backend: {static: {root: ''}}"))
        .containsExactly(
            "backend.static.root: must not be empty (omit the key or write ~ to leave it unset)");
  }

  @Test
  void relativePath_resolvedAgainstConfigDir() throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.createDirectories(conf.resolve("site"));
    Files.writeString(conf.resolve("fullchain.pem"), "cert");
    Files.writeString(conf.resolve("privkey.pem"), "key");
    Files.createDirectories(conf.resolve("logs"));
    Path file = conf.resolve("foobar.yml");
    Files.writeString(
        file,
        """
        lb: {tls: {cert: fullchain.pem, key: ./privkey.pem}}
        backend:
          static: {root: site}
          access-log: {file: logs/access.log}
        """);

    FoobarConfig config = ConfigLoader.load(Optional.of(file), Map.of());

    assertThat(config.lb().tls())
        .contains(new TlsConfig(conf.resolve("fullchain.pem"), conf.resolve("privkey.pem")));
    assertThat(config.backend().staticFiles().root()).contains(conf.resolve("site"));
    assertThat(config.backend().accessLog().file()).contains(conf.resolve("logs/access.log"));
  }

  @Test
  void cacheControlRules_boundInOrder() throws IOException {
    List<StaticConfig.CacheControlRule> rules =
        load("backend: {static: {cache-control: [{path: '/a/**', value: no-store}]}}")
            .backend()
            .staticFiles()
            .cacheControl();

    assertThat(rules).containsExactly(new StaticConfig.CacheControlRule("/a/**", "no-store"));
  }

  @Test
  void cacheControlRule_missingValue_reported() throws IOException {
    assertThat(problems("backend: {static: {cache-control: [{path: '/a/**'}]}}"))
        .containsExactly("backend.static.cache-control[0].value: missing required key");
  }

  @Test
  void secret_acceptsAnyText_andHidesIt() throws IOException {
    FoobarConfig config = load("database: {primary: 'jdbc:h2:mem:x', user: sa, password: 's e'}");

    Secret password = config.database().orElseThrow().password();
    assertThat(password.value()).isEqualTo("s e");
    assertThat(config.toString()).doesNotContain("s e");
  }
}
