package com.foobar.core;

import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Converts the text of one YAML scalar into a Java value and applies the per-key rules of {@link
 * Bind}. Every failure adds one problem line naming the key, the value and what is expected.
 */
final class ScalarBinder {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
  private static final List<Class<?>> TYPES =
      List.of(
          String.class,
          Secret.class,
          boolean.class,
          int.class,
          long.class,
          Duration.class,
          DataSize.class,
          HostPort.class,
          Cidr.class,
          URI.class,
          Path.class);

  private final Path baseDir;
  private final List<String> problems;

  /**
   * A binder resolving relative paths against {@code baseDir} (absolute) and adding problems to
   * {@code problems}.
   */
  ScalarBinder(Path baseDir, List<String> problems) {
    this.baseDir = baseDir;
    this.problems = problems;
  }

  /** Whether values of {@code type} are written as one YAML scalar. */
  static boolean isScalar(Class<?> type) {
    return type.isEnum() || TYPES.contains(type);
  }

  /** What a value of {@code type} looks like, for "expected ..." messages. */
  static String describe(Class<?> type) {
    if (type.isEnum()) {
      return "one of " + choices(type);
    }
    return switch (type.getSimpleName()) {
      case "boolean" -> "true or false";
      case "int", "long" -> "an integer";
      case "Duration" -> "a duration like 500ms, 2s or 1m";
      case "DataSize" -> "a size like 512, 64KiB, 1MiB or 1GB";
      case "HostPort" -> "an address like 127.0.0.1:8080 or [::1]:8080";
      case "Cidr" -> "a CIDR like 10.0.0.0/8 or ::1/128";
      case "URI" -> "an absolute http or https URL like https://10.0.0.11:8443";
      case "Path" -> "a file path";
      default -> "a string";
    };
  }

  /**
   * The value of {@code text} as {@code type}, checked against the {@link Bind} rules on {@code
   * rules} (the record component being bound, or an element of it); empty when a problem was
   * reported.
   */
  Optional<Object> bind(String text, Class<?> type, String path, RecordComponent rules) {
    Bind.Check check = rules.getAnnotation(Bind.Check.class);
    boolean zero = rules.isAnnotationPresent(Bind.ZeroAllowed.class);
    try {
      Object value =
          convert(text, type, path, Optional.ofNullable(check).map(Bind.Check::value), zero);
      return Optional.of(value);
    } catch (Invalid e) {
      problems.add(path + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  private Object convert(
      String text, Class<?> type, String path, Optional<Bind.PathCheck> check, boolean zero)
      throws Invalid {
    if (type == Secret.class) {
      return new Secret(text);
    }
    if (type == String.class) {
      if (text.isBlank()) {
        throw new Invalid("must not be empty");
      }
      return text;
    }
    if (type == boolean.class) {
      if (!text.equals("true") && !text.equals("false")) {
        throw expected(type, text);
      }
      return Boolean.valueOf(text);
    }
    if (type == int.class || type == long.class) {
      long n = integer(text, type);
      long min = zero ? 0 : 1;
      if (n < min) {
        throw new Invalid("must be at least " + min + ", got '" + text + "'");
      }
      if (type == int.class) {
        return (int) n;
      }
      return n;
    }
    if (type == Duration.class) {
      Duration d = duration(text);
      return nonZero(d, d.isZero(), text, zero);
    }
    if (type == DataSize.class) {
      DataSize size;
      try {
        size = DataSize.parse(text);
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw expected(type, text);
      }
      return nonZero(size, size.bytes() == 0, text, zero);
    }
    if (type == HostPort.class) {
      try {
        return HostPort.parse(text);
      } catch (IllegalArgumentException e) {
        throw new Invalid(e.getMessage() + ", got '" + text + "'");
      }
    }
    if (type == Cidr.class) {
      try {
        return Cidr.parse(text);
      } catch (IllegalArgumentException e) {
        throw new Invalid("malformed CIDR '" + text + "': " + e.getMessage());
      }
    }
    if (type == URI.class) {
      return httpUri(text);
    }
    if (type == Path.class) {
      return path(text, check);
    }
    if (type.isEnum()) {
      for (Object constant : type.getEnumConstants()) {
        if (Bind.kebab(((Enum<?>) constant).name()).equals(text)) {
          return constant;
        }
      }
      throw expected(type, text);
    }
    throw new IllegalStateException("no binding for " + type + " at " + path);
  }

  private static long integer(String text, Class<?> type) throws Invalid {
    if (!INTEGER.matcher(text).matches()) {
      throw expected(type, text);
    }
    try {
      return type == int.class ? Integer.parseInt(text) : Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new Invalid("integer out of range, got '" + text + "'");
    }
  }

  /** {@code text} as a configuration duration; the exception's message says what was expected. */
  static Duration parseDuration(String text) {
    try {
      return duration(text);
    } catch (Invalid e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static Duration duration(String text) throws Invalid {
    if (text.startsWith("-")) {
      throw new Invalid("must not be negative, got '" + text + "'");
    }
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      String hint = INTEGER.matcher(text).matches() ? " (a unit is required)" : "";
      throw new Invalid(describeExpected(Duration.class) + ", got '" + text + "'" + hint);
    }
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } catch (NumberFormatException | ArithmeticException e) {
      throw new Invalid("duration out of range, got '" + text + "'");
    }
  }

  /** {@code d} as written in YAML: the largest of h, m, s, ms that divides it; {@code 0s}. */
  static String formatDuration(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1_000 == 0) {
      return ms / 1_000 + "s";
    }
    return ms + "ms";
  }

  private static <T> T nonZero(T value, boolean isZero, String text, boolean zeroAllowed)
      throws Invalid {
    if (isZero && !zeroAllowed) {
      throw new Invalid("must be greater than zero, got '" + text + "'");
    }
    return value;
  }

  private static URI httpUri(String text) throws Invalid {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw expected(URI.class, text);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw expected(URI.class, text);
    }
    return uri;
  }

  private Path path(String text, Optional<Bind.PathCheck> check) throws Invalid {
    if (text.isBlank()) {
      throw new Invalid("must not be empty (omit the key or write ~ to leave it unset)");
    }
    Path path;
    try {
      path = baseDir.resolve(text).normalize();
    } catch (InvalidPathException e) {
      throw new Invalid("expected a file path, got '" + text + "': " + e.getReason());
    }
    if (check.isEmpty()) {
      return path;
    }
    switch (check.get()) {
      case READABLE_FILE -> {
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
          throw new Invalid("cannot read file '" + path + "'");
        }
      }
      case READABLE_DIRECTORY -> {
        if (!Files.isDirectory(path) || !Files.isReadable(path)) {
          throw new Invalid("not a readable directory '" + path + "'");
        }
      }
      case WRITABLE_FILE -> {
        Path parent = path.getParent();
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
          throw new Invalid("directory of '" + path + "' does not exist or is not writable");
        }
        if (Files.isDirectory(path) || Files.exists(path) && !Files.isWritable(path)) {
          throw new Invalid("cannot write file '" + path + "'");
        }
      }
    }
    return path;
  }

  private static Invalid expected(Class<?> type, String text) {
    return new Invalid(describeExpected(type) + ", got '" + text + "'");
  }

  private static String describeExpected(Class<?> type) {
    return "expected " + describe(type);
  }

  private static String choices(Class<?> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(c -> Bind.kebab(((Enum<?>) c).name()))
        .collect(Collectors.joining(", "));
  }

  /** One value failed its conversion or check; the message has no key path yet. */
  private static final class Invalid extends Exception {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }
}
