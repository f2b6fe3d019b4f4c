package com.foobar.core;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.RecordComponent;
import java.util.Locale;

/**
 * Binding rules that {@link ConfigBinder} reads from the record components of the configuration
 * records. Without annotations a component binds to the kebab-case form of its name ({@code
 * adminAccess} ↔ {@code admin-access}), numbers, durations and sizes must be positive, and lists
 * may be empty.
 */
final class Bind {
  private Bind() {}

  /** The YAML key of a component whose name does not map to it by kebab-casing. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.RECORD_COMPONENT)
  @interface Key {
    String value();
  }

  /** A number, duration or size that may be zero (it must still not be negative). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.RECORD_COMPONENT)
  @interface ZeroAllowed {}

  /** A list that must have at least one element. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.RECORD_COMPONENT)
  @interface NonEmpty {}

  /** What must be true of a {@code Path} value once resolved against the config directory. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.RECORD_COMPONENT)
  @interface Check {
    PathCheck value();
  }

  /** Checks of a path value, made while loading so that start-up fails early. */
  enum PathCheck {
    /** A regular file the process can read. */
    READABLE_FILE,
    /** A directory the process can read. */
    READABLE_DIRECTORY,
    /** A file the process can create or append to: its parent directory exists and is writable. */
    WRITABLE_FILE
  }

  /** The YAML key of {@code component}. */
  static String key(RecordComponent component) {
    Key key = component.getAnnotation(Key.class);
    return key != null ? key.value() : kebab(component.getName());
  }

  /** {@code adminAccess} → {@code admin-access}; {@code COMBINED_V2} → {@code combined-v2}. */
  static String kebab(String name) {
    if (name.equals(name.toUpperCase(Locale.ROOT))) {
      return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }
    StringBuilder out = new StringBuilder(name.length() + 4);
    for (char c : name.toCharArray()) {
      if (Character.isUpperCase(c)) {
        out.append('-').append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
