package com.foobar.app.spi;

/**
 * An application's settings are invalid. Start-up fails with exit code 2 and the line {@code config
 * error: backend.apps.<name>.config.<key>: <message>}, like every configuration error.
 */
public final class AppConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  /**
   * @param key the setting, relative to the application's {@code config}, e.g. {@code cache-size}
   * @param message what was expected and what was given, e.g. {@code must not be negative, got
   *     '-1'}
   */
  public AppConfigException(String key, String message) {
    super(key + ": " + message);
    this.key = key;
  }

  /** The setting, relative to the application's {@code config}. */
  public String key() {
    return key;
  }
}
