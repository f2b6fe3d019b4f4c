package com.foobar.app.spi;

/**
 * An application's settings are invalid. The message names the key and the value, like every
 * configuration error: {@code backend.apps.links.config.cache-size must be positive, got -1}.
 */
public final class AppConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AppConfigException(String message) {
    super(message);
  }
}
