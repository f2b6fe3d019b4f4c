package com.foobar.launcher;

import com.foobar.core.Role;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Parses {@code --role} and knows which roles this build can run. */
final class Roles {
  /** Roles built so far; the others are refused rather than pretended. */
  static final Set<Role> BUILT = EnumSet.of(Role.LB, Role.BACKEND);

  private Roles() {}

  /**
   * The roles {@code text} selects: one role, or every role for {@code all}.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  static Set<Role> parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("all")) {
      return EnumSet.allOf(Role.class);
    }
    for (Role r : Role.values()) {
      if (r.key().equals(t)) {
        return EnumSet.of(r);
      }
    }
    throw new IllegalArgumentException(
        "--role must be lb, backend, monitor or all, got '" + text + "'");
  }
}
