package com.foobar.core;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The access log of one listener.
 *
 * @param enabled whether requests are logged at all
 * @param format {@code json} (one object per line) or {@code combined} (nginx/Apache combined)
 * @param file where lines go; empty means stdout. Its directory must exist and be writable; a
 *     relative path resolves against the config file's directory
 */
public record AccessLogConfig(
    boolean enabled, Format format, @Bind.Check(Bind.PathCheck.WRITABLE_FILE) Optional<Path> file) {

  /** Line format of the access log. */
  public enum Format {
    JSON,
    COMBINED
  }
}
