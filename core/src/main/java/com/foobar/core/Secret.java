package com.foobar.core;

/**
 * A configuration value that is never printed: {@link #toString()} masks it.
 *
 * @param value the clear text; read it only where it is used
 */
public record Secret(String value) {
  @Override
  public String toString() {
    return value.isEmpty() ? "" : "******";
  }
}
