package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("foobar.yml");
    Files.writeString(file, yaml);
    return file;
  }

  private FoobarConfig load(String yaml, Map<String, String> env) throws IOException {
    return ConfigLoader.load(Optional.of(write(yaml)), env);
  }

  private FoobarConfig load(String yaml) throws IOException {
    return load(yaml, Map.of());
  }

  private List<String> problems(String yaml, Map<String, String> env) throws IOException {
    Path file = write(yaml);
    try {
      ConfigLoader.load(Optional.of(file), env);
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected a ConfigException for:\n" + yaml);
  }

  private List<String> problems(String yaml) throws IOException {
    return problems(yaml, Map.of());
  }

  @Test
  void defaults_loadWithoutFile() {
    FoobarConfig config = ConfigLoader.load(Optional.empty(), Map.of());

    assertThat(config.site()).isEqualTo("www.foobar.com");
    assertThat(config.node()).isEmpty();
    assertThat(config.database()).isEmpty();
    assertThat(config.lb().https()).isEqualTo(new HostPort("0.0.0.0", 8443));
    assertThat(config.lb().tls()).isEmpty();
    assertThat(config.lb().backends())
        .containsExactly(
            new LbConfig.BackendRef(URI.create("https://127.0.0.1:8081"), 1),
            new LbConfig.BackendRef(URI.create("https://127.0.0.1:8082"), 1));
    assertThat(config.lb().allow()).containsExactly(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"));
    assertThat(config.lb().deny()).isEmpty();
    assertThat(config.backend().adminAccess().allow())
        .containsExactly(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));
    StaticConfig statics = config.backend().staticFiles();
    assertThat(statics.root()).isEmpty();
    assertThat(statics.indexFiles()).containsExactly("index.html");
    assertThat(statics.cacheControl()).hasSize(3);
    assertThat(statics.cacheControl().get(0))
        .isEqualTo(
            new StaticConfig.CacheControlRule("/assets/**", "public, max-age=31536000, immutable"));
    assertThat(statics.memoryCache().maxBytes()).isEqualTo(new DataSize(64L << 20));
    assertThat(statics.memoryCache().revalidate()).isEqualTo(Duration.ofSeconds(1));
    assertThat(statics.gzip().minSize()).isEqualTo(new DataSize(1024));
    assertThat(config.backend().limits().maxHeaders()).isEqualTo(100);
    assertThat(config.backend().limits().idleTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.backend().accessLog().format()).isEqualTo(AccessLogConfig.Format.JSON);
    assertThat(config.backend().accessLog().file()).isEmpty();
    assertThat(config.lb().accessLog())
        .isEqualTo(new AccessLogConfig(true, AccessLogConfig.Format.JSON, Optional.empty()));
    assertThat(config.logging().level()).isEqualTo(LoggingConfig.Level.INFO);
  }

  @Test
  void userFile_mergedOverDefaults_keyByKey() throws IOException {
    FoobarConfig config =
        load(
            """
            site: example.org
            backend:
              listen: 127.0.0.1:9001
              static:
                memory-cache: {max-bytes: 128MiB}
            """);

    assertThat(config.site()).isEqualTo("example.org");
    assertThat(config.backend().listen()).isEqualTo(new HostPort("127.0.0.1", 9001));
    assertThat(config.backend().admin()).isEqualTo(new HostPort("127.0.0.1", 9102));
    StaticConfig.MemoryCacheConfig cache = config.backend().staticFiles().memoryCache();
    assertThat(cache.maxBytes()).isEqualTo(new DataSize(128L << 20));
    assertThat(cache.maxFileSize()).isEqualTo(new DataSize(1L << 20));
  }

  @Test
  void lists_replaceDefaultLists() throws IOException {
    FoobarConfig config = load("lb: {allow: [10.0.0.0/8], backends: [http://10.0.0.5:80]}");

    assertThat(config.lb().allow()).containsExactly(Cidr.parse("10.0.0.0/8"));
    assertThat(config.lb().backends())
        .containsExactly(new LbConfig.BackendRef(URI.create("http://10.0.0.5:80"), 1));
  }

  @Test
  void explicitNull_removesOptionalKey() throws IOException {
    FoobarConfig config = load("node: ~\nbackend: {access-log: {file: null}}");

    assertThat(config.node()).isEmpty();
    assertThat(config.backend().accessLog().file()).isEmpty();
  }

  @Test
  void explicitNull_forRequiredKey_isReported() throws IOException {
    assertThat(problems("backend: {listen: ~}"))
        .containsExactly("backend.listen: a value is required (null only removes optional keys)");
  }

  @Test
  void emptyFile_meansDefaults() throws IOException {
    // relative paths resolve against the config file's directory, or the working directory
    assertThat(load(""))
        .usingRecursiveComparison()
        .ignoringFields("backend.plugins")
        .isEqualTo(ConfigLoader.load(Optional.empty(), Map.of()));
  }

  @Test
  void optionalSections_bound() throws IOException {
    FoobarConfig config =
        load(
            """
            node: web-01
            database:
              primary: jdbc:mysql://db1:3306/foobar
              replicas: [jdbc:mysql://db2:3306/foobar]
              user: foobar
              password: s3cret
            """);

    assertThat(config.node()).contains("web-01");
    assertThat(config.database())
        .contains(
            new DatabaseConfig(
                "jdbc:mysql://db1:3306/foobar",
                List.of("jdbc:mysql://db2:3306/foobar"),
                "foobar",
                new Secret("s3cret"),
                10,
                Duration.ofSeconds(2),
                Duration.ofMillis(250),
                Duration.ofSeconds(2),
                true));
  }

  @Test
  void backends_urlOrMappingWithWeight() throws IOException {
    assertThat(
            load("""
                    lb:
                      backends:
                        - https://10.0.0.11:8443
                        - {url: "https://10.0.0.12:8443", weight: 3}
                        - {url: "https://10.0.0.13:8443"}
                    """)
                .lb()
                .backends())
        .containsExactly(
            new LbConfig.BackendRef(URI.create("https://10.0.0.11:8443"), 1),
            new LbConfig.BackendRef(URI.create("https://10.0.0.12:8443"), 3),
            new LbConfig.BackendRef(URI.create("https://10.0.0.13:8443"), 1));
    assertThat(problems("lb: {backends: [{url: 'https://10.0.0.1:1', weight: 0}]}"))
        .containsExactly("lb.backends[0].weight: must be at least 1, got '0'");
  }

  @Test
  void sectionDefaults_applyOnlyToAGivenSection_andGivenKeysWin() throws IOException {
    assertThat(load("site: x").database()).isEmpty();

    DatabaseConfig db =
        load("database: {primary: 'jdbc:h2:mem:x', user: sa, password: '', pool-size: 3}")
            .database()
            .orElseThrow();

    assertThat(db.poolSize()).isEqualTo(3);
    assertThat(db.replicaTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(db.migrate()).isTrue();
  }

  @Test
  void apps_areAMapOfNames_withFreeFormConfig_andNullRemovesADefault() throws IOException {
    BackendConfig b =
        load("""
                backend:
                  apps:
                    links: ~
                    hello: {prefix: /hello, config: {greeting: hi, times: 2}}
                """)
            .backend();

    assertThat(b.apps()).containsOnlyKeys("hello");
    assertThat(b.apps().get("hello").prefix()).isEqualTo("/hello");
    assertThat(b.apps().get("hello").config().path("greeting").asText()).isEqualTo("hi");
    assertThat(load("site: x").backend().apps()).containsOnlyKeys("links");
  }

  @Test
  void appPrefix_withoutSlash_isReported() throws IOException {
    assertThat(problems("backend: {apps: {hello: {prefix: hello}}}"))
        .containsExactly("backend.apps.hello: prefix must start with '/', got 'hello'");
  }

  @Test
  void missingList_insideOptionalSection_isEmpty() throws IOException {
    FoobarConfig config = load("database: {primary: 'jdbc:h2:mem:x', user: sa, password: ''}");

    assertThat(config.database().orElseThrow().replicas()).isEmpty();
  }

  @Test
  void missingRequiredKey_insideOptionalSection_isReported() throws IOException {
    assertThat(problems("database: {primary: 'jdbc:h2:mem:x', password: pw}"))
        .containsExactly("database.user: missing required key");
  }

  @Test
  void envVariable_substituted() throws IOException {
    FoobarConfig config =
        load(
            """
            site: ${SITE}
            backend: {listen: "127.0.0.1:${PORT}", limits: {max-headers: "${MAX}"}}
            database: {primary: 'jdbc:mysql://${DB}/foobar', user: u, password: '${FOOBAR_DB_PASSWORD}'}
            """,
            Map.of(
                "SITE", "shop.example",
                "PORT", "7001",
                "MAX", "42",
                "DB", "db1:3306",
                "FOOBAR_DB_PASSWORD", "hunter2"));

    assertThat(config.site()).isEqualTo("shop.example");
    assertThat(config.backend().listen()).isEqualTo(new HostPort("127.0.0.1", 7001));
    assertThat(config.backend().limits().maxHeaders()).isEqualTo(42);
    assertThat(config.database().orElseThrow().primary()).isEqualTo("jdbc:mysql://db1:3306/foobar");
    assertThat(config.database().orElseThrow().password().value()).isEqualTo("hunter2");
  }

  @Test
  void envVariable_defaultUsedWhenUnset() throws IOException {
    FoobarConfig config = load("site: ${SITE:-fallback.example}\nlb: {deny: ['${BAD:-}10.9.9.9']}");

    assertThat(config.site()).isEqualTo("fallback.example");
    assertThat(config.lb().deny()).containsExactly(Cidr.parse("10.9.9.9"));
  }

  @Test
  void envVariable_setWins_overDefault() throws IOException {
    assertThat(load("site: ${SITE:-fallback}", Map.of("SITE", "set.example")).site())
        .isEqualTo("set.example");
  }

  @Test
  void envVariable_doubleDollar_isLiteral() throws IOException {
    assertThat(load("site: a$${B}c").site()).isEqualTo("a${B}c");
  }

  @Test
  void missingEnvVariable_namesKey() throws IOException {
    assertThat(problems("lb: {allow: [10.0.0.0/8, '${LB_NET}']}"))
        .containsExactly(
            "lb.allow[1]: environment variable LB_NET is not set"
                + " (write ${LB_NET:-default} to give a default)");
  }

  @Test
  void tlsEngine_defaultsToJdk_openSslBound_unknownValueNamesKeyAndValue() throws IOException {
    assertThat(load("").lb().tlsEngine()).isEqualTo(TlsEngine.JDK);
    assertThat(load("lb: {tls-engine: openssl}").lb().tlsEngine()).isEqualTo(TlsEngine.OPENSSL);
    assertThat(problems("lb: {tls-engine: boringssl}"))
        .singleElement()
        .asString()
        .startsWith("lb.tls-engine: ")
        .contains("boringssl", "jdk", "openssl");
  }

  @Test
  void tlsEngineOpenSsl_withSni_isRefused() throws IOException {
    Path cert = Files.writeString(dir.resolve("a.pem"), "");
    Path key = Files.writeString(dir.resolve("a-key.pem"), "");
    assertThat(
            problems("lb: {tls-engine: openssl, sni: [{cert: %s, key: %s}]}".formatted(cert, key)))
        .singleElement()
        .asString()
        .startsWith("lb: tls-engine openssl")
        .contains("lb.sni must be empty, got 1");
  }

  @Test
  void unknownKey_suggestsClosestKey() throws IOException {
    assertThat(problems("backend: {lsiten: 127.0.0.1:8081}"))
        .containsExactly("backend.lsiten: unknown key (did you mean 'listen'?)");
  }

  @Test
  void unknownKey_camelCase_suggestsKebabCase() throws IOException {
    assertThat(problems("lb: {adminAccess: {allow: []}}"))
        .containsExactly("lb.adminAccess: unknown key (did you mean 'admin-access'?)");
  }

  @Test
  void unknownKey_farFromAll_listsValidKeys() throws IOException {
    assertThat(problems("logging: {colour: always}"))
        .containsExactly("logging.colour: unknown key (valid keys: level)");
  }

  @Test
  void unknownTopLevelSection_reported() throws IOException {
    assertThat(problems("backends: {}"))
        .containsExactly("backends: unknown key (did you mean 'backend'?)");
  }

  @Test
  void severalProblems_allReported() throws IOException {
    assertThat(
            problems(
                """
                lb:
                  allow: [10.0.0.0/33]
                backend:
                  lsiten: x
                  listen: 127.0.0.1:99999
                  limits: {max-headers: many}
                  static:
                    memory-cache: {revalidate: soon}
                logging: {level: loud}
                """))
        .containsExactlyInAnyOrder(
            "lb.allow[0]: malformed CIDR '10.0.0.0/33': prefix length must be 0-32",
            "backend.lsiten: unknown key (did you mean 'listen'?)",
            "backend.listen: port out of range 0-65535, got '127.0.0.1:99999'",
            "backend.limits.max-headers: expected an integer, got 'many'",
            "backend.static.memory-cache.revalidate:"
                + " expected a duration like 500ms, 2s or 1m, got 'soon'",
            "logging.level: expected one of trace, debug, info, warn, error, got 'loud'");
  }

  @Test
  void configException_message_listsEveryProblem() throws IOException {
    Path file = write("backend: {lsiten: x, drain-timeout: 0s}");

    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("2 configuration problems")
        .hasMessageContaining("backend.lsiten")
        .hasMessageContaining("backend.drain-timeout: must be greater than zero, got '0s'");
  }

  @Test
  void yamlSyntaxError_namesFileLineAndColumn() throws IOException {
    List<String> problems = problems("site: x\nlb:\n  https: [0.0.0.0:8443\n  http: x\n");

    assertThat(problems).hasSize(1);
    assertThat(problems.get(0))
        .startsWith(dir.resolve("foobar.yml") + ":")
        .contains("YAML syntax error")
        .matches("[^\\n]*:\\d+:\\d+: YAML syntax error: [^\\n]+");
  }

  @Test
  void duplicateKey_reported() throws IOException {
    List<String> problems = problems("site: a\nsite: b\n");

    assertThat(problems).singleElement().asString().contains("site").contains("foobar.yml:");
  }

  @Test
  void topLevelNotMapping_reported() throws IOException {
    assertThat(problems("- a\n- b\n"))
        .singleElement()
        .asString()
        .endsWith("expected a mapping of sections (site, lb, backend, ...) at the top");
  }

  @Test
  void missingConfigFile_namesFile() {
    Path missing = dir.resolve("nope.yml");

    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(missing), Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly("config file '" + missing + "' does not exist"));
  }

  @Test
  void configFileIsDirectory_namesFile() {
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(dir), Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .startsWith("config file '" + dir + "' is a directory"));
  }

  @Test
  void mappingWhereScalarExpected_reported() throws IOException {
    assertThat(problems("site: {a: b}")).containsExactly("site: expected a string, got a mapping");
  }

  @Test
  void scalarWhereMappingExpected_reported() throws IOException {
    assertThat(problems("logging: verbose"))
        .containsExactly("logging: expected a mapping with keys level, got 'verbose'");
  }

  @Test
  void scalarWhereListExpected_reported() throws IOException {
    assertThat(problems("lb: {deny: 10.0.0.1}"))
        .containsExactly("lb.deny: expected a list, got '10.0.0.1'");
  }

  @Test
  void memoryCache_maxFileSizeAboveMaxBytes_reported() throws IOException {
    assertThat(
            problems("backend: {static: {memory-cache: {max-bytes: 1MiB, max-file-size: 2MiB}}}"))
        .containsExactly(
            "backend.static.memory-cache.max-file-size: must not exceed max-bytes 1MiB, got '2MiB'");
  }

  @Test
  void backendTls_clientAuthDefaultsToNone_andCaPathResolves() throws IOException {
    Files.writeString(dir.resolve("c.pem"), "x");
    Files.writeString(dir.resolve("k.pem"), "x");
    assertThat(ConfigLoader.load(Optional.empty(), Map.of()).backend().tls()).isEmpty();

    BackendConfig.BackendTlsConfig tls =
        load("backend: {tls: {cert: c.pem, key: k.pem}}").backend().tls().orElseThrow();

    assertThat(tls.clientAuth()).isEqualTo(BackendConfig.ClientAuth.NONE);
    assertThat(tls.ca()).isEmpty();
    assertThat(tls.cert()).isEqualTo(dir.resolve("c.pem"));
    assertThat(
            load("backend: {tls: {cert: c.pem, key: k.pem, ca: c.pem, client-auth: required}}")
                .backend()
                .tls()
                .orElseThrow()
                .ca())
        .contains(dir.resolve("c.pem"));
  }

  @Test
  void backendTls_clientAuthRequiredWithoutCa_isReported() throws IOException {
    Files.writeString(dir.resolve("c.pem"), "x");
    Files.writeString(dir.resolve("k.pem"), "x");
    assertThat(problems("backend: {tls: {cert: c.pem, key: k.pem, client-auth: required}}"))
        .containsExactly("backend.tls: client-auth: required needs ca (the internal CA's ca.pem)");
    assertThat(problems("backend: {tls: {cert: c.pem, key: k.pem, client-auth: sometimes}}"))
        .singleElement()
        .asString()
        .startsWith("backend.tls.client-auth:");
  }
}
