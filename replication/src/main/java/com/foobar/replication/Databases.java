package com.foobar.replication;

import com.foobar.core.DatabaseConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.Optional;

/** Opens the site's {@link Database} from its configuration. */
public final class Databases {
  private Databases() {}

  /**
   * The database of {@code config}: the primary and replicas it names, or, when it is empty, the
   * embedded H2 database in {@code dataDir} (created when missing).
   */
  public static Database open(
      Optional<DatabaseConfig> config, Path dataDir, MeterRegistry registry) {
    return config
        .<Database>map(
            c -> {
              throw new UnsupportedOperationException("replicated database: not yet");
            })
        .orElseGet(() -> embedded(dataDir, registry));
  }

  /** The embedded H2 (MySQL mode) file database {@code dataDir/foobar.mv.db}. */
  public static Database embedded(Path dataDir, MeterRegistry registry) {
    return EmbeddedDatabase.open(dataDir, registry);
  }
}
