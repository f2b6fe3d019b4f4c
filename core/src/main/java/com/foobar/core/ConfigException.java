package com.foobar.core;

import java.util.List;

/**
 * The configuration cannot be used. Carries every problem found, one line each, each naming the key
 * path, the offending value and what is expected, e.g. {@code backend.listen: port out of range
 * 0-65535, got '127.0.0.1:99999'}. The launcher prints {@link #problems()} and exits with code 2;
 * the stack trace is never shown to the operator.
 */
public final class ConfigException extends RuntimeException {
  private final List<String> problems;

  /**
   * An exception carrying {@code problems}.
   *
   * @throws IllegalArgumentException when {@code problems} is empty
   */
  public ConfigException(List<String> problems) {
    super(message(problems));
    this.problems = List.copyOf(problems);
  }

  private static String message(List<String> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    return problems.size() == 1
        ? problems.get(0)
        : problems.size() + " configuration problems:\n  " + String.join("\n  ", problems);
  }

  /** The problems, one line each, in the order they were found; never empty. */
  public List<String> problems() {
    return problems;
  }
}
