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

class ConfigPrinterTest {
  @TempDir Path dir;

  private FoobarConfig loadFile(String name, String yaml) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, yaml);
    return ConfigLoader.load(Optional.of(file), Map.of());
  }

  @Test
  void defaults_printedWithKebabKeysAndUnits() {
    String yaml = ConfigLoader.toYaml(ConfigLoader.load(Optional.empty(), Map.of()));

    assertThat(yaml)
        .contains("admin-access:")
        .contains("static:")
        .contains("max-bytes: 64MiB")
        .contains("revalidate: 1s")
        .contains("request-header-timeout: 10s")
        .contains("https: 0.0.0.0:8443")
        .contains("format: json")
        .contains("level: info")
        .doesNotContain("staticFiles")
        .doesNotContain("database:")
        .doesNotContain("node:")
        .doesNotContain("tls:");
  }

  @Test
  void defaults_roundTrip() throws IOException {
    FoobarConfig defaults = ConfigLoader.load(Optional.empty(), Map.of());

    assertThat(loadFile("printed.yml", ConfigLoader.toYaml(defaults))).isEqualTo(defaults);
  }

  @Test
  void everythingSet_roundTrip() throws IOException {
    Files.writeString(dir.resolve("fullchain.pem"), "cert");
    Files.writeString(dir.resolve("privkey.pem"), "key");
    Files.createDirectories(dir.resolve("site"));
    FoobarConfig config =
        loadFile(
            "foobar.yml",
            """
            site: shop.example
            node: web-01
            lb:
              https: '[::]:443'
              tls: {cert: fullchain.pem, key: privkey.pem}
              allow: ['10.1.2.3/8', '::ffff:10.0.0.0/104', '2001:db8::/32']
              deny: [10.6.6.6]
              backends: ['https://10.0.0.11:8443/base', 'http://backend.internal:80']
            backend:
              static:
                root: site
                index-files: [index.html, index.htm]
                cache-control: [{path: '**', value: '*'}]
                memory-cache: {max-bytes: 10KB, max-file-size: 1500, revalidate: 0s}
                gzip: {min-size: 0, types: ['text/*']}
              limits: {request-header-timeout: 1500ms, idle-timeout: 2h}
              access-log: {enabled: false, format: combined, file: access.log}
              drain-timeout: 90s
            database:
              primary: 'jdbc:mysql://db1:3306/foobar'
              replicas: ['jdbc:mysql://db2:3306/foobar']
              user: '123'
              password: hunter2
            logging: {level: debug}
            """);

    String yaml = ConfigLoader.toYaml(config);
    FoobarConfig reloaded = loadFile("printed.yml", yaml);

    assertThat(yaml).contains("password: '******'").doesNotContain("hunter2");
    assertThat(reloaded.database().orElseThrow().password().value()).isEqualTo("******");
    assertThat(withPassword(reloaded, "hunter2")).isEqualTo(config);
  }

  @Test
  void secret_maskedInYaml() {
    FoobarConfig defaults = ConfigLoader.load(Optional.empty(), Map.of());
    FoobarConfig config =
        new FoobarConfig(
            defaults.site(),
            defaults.node(),
            defaults.lb(),
            defaults.backend(),
            Optional.of(
                new DatabaseConfig(
                    "jdbc:h2:mem:x",
                    List.of(),
                    "sa",
                    new Secret("p@ss: word"),
                    10,
                    Duration.ofSeconds(2),
                    Duration.ofMillis(250),
                    Duration.ofSeconds(2),
                    true)),
            defaults.monitor(),
            defaults.logging());

    assertThat(ConfigLoader.toYaml(config)).contains("password: '******'").doesNotContain("p@ss");
  }

  private static FoobarConfig withPassword(FoobarConfig c, String password) {
    DatabaseConfig db = c.database().orElseThrow();
    return new FoobarConfig(
        c.site(),
        c.node(),
        c.lb(),
        c.backend(),
        Optional.of(
            new DatabaseConfig(
                db.primary(),
                db.replicas(),
                db.user(),
                new Secret(password),
                db.poolSize(),
                db.connectionTimeout(),
                db.replicaTimeout(),
                db.replicaRetry(),
                db.migrate())),
        c.monitor(),
        c.logging());
  }
}
