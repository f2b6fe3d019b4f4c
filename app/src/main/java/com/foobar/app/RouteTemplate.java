package com.foobar.app;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A path template such as {@code /api/links/{code}}: literal segments and variables, each a whole
 * segment. A variable matches one non-empty segment; a literal matches itself exactly. Templates
 * order by specificity: at the first segment where two differ in kind, the literal one comes first,
 * so {@code /api/links/stats} wins over {@code /api/links/{code}}.
 */
final class RouteTemplate implements Comparable<RouteTemplate> {
  private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern LITERAL = Pattern.compile("[^{}/]*");

  private final String text;
  private final String[] segments;

  /** Variable name of each segment, or null for a literal (internal only). */
  private final String[] variables;

  private RouteTemplate(String text, String[] segments, String[] variables) {
    this.text = text;
    this.segments = segments;
    this.variables = variables;
  }

  /**
   * Parses {@code template} mounted under {@code prefix}: {@code /} and {@code /api/links/{code}}
   * give {@code /api/links/{code}}; {@code /hello} and {@code /{name}} give {@code /hello/{name}}.
   *
   * @throws IllegalArgumentException when the template does not start with {@code /}, a segment
   *     mixes braces with text, or a variable name repeats
   */
  static RouteTemplate parse(String prefix, String template) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException(
          "a route template starts with '/', got '" + template + "'");
    }
    String base = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
    String text = base + template;
    String[] segments = text.substring(1).split("/", -1);
    String[] variables = new String[segments.length];
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < segments.length; i++) {
      var m = VARIABLE.matcher(segments[i]);
      if (m.matches()) {
        if (seen.contains(m.group(1))) {
          throw new IllegalArgumentException(
              "route template '" + template + "' repeats variable '" + m.group(1) + "'");
        }
        seen.add(m.group(1));
        variables[i] = m.group(1);
      } else if (!LITERAL.matcher(segments[i]).matches()) {
        throw new IllegalArgumentException(
            "route template '"
                + template
                + "': a variable is a whole segment like {code}, got '"
                + segments[i]
                + "'");
      }
    }
    return new RouteTemplate(text, segments, variables);
  }

  /** The template with its prefix, e.g. {@code /api/links/{code}}; the route's metrics tag. */
  String text() {
    return text;
  }

  /**
   * The path made of the literal segments before the first variable, e.g. {@code /api/links} for
   * {@code /api/links/{code}}; empty when the template starts with a variable or is {@code /}.
   */
  Optional<String> area() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < segments.length && variables[i] == null && !segments[i].isEmpty(); i++) {
      b.append('/').append(segments[i]);
    }
    return b.length() == 0 ? Optional.empty() : Optional.of(b.toString());
  }

  /** The variables bound by {@code path}, or empty when it does not match. */
  Optional<Map<String, String>> match(String path) {
    if (path.isEmpty() || path.charAt(0) != '/') {
      return Optional.empty();
    }
    String[] parts = path.substring(1).split("/", -1);
    if (parts.length != segments.length) {
      return Optional.empty();
    }
    for (int i = 0; i < parts.length; i++) {
      if (variables[i] == null) {
        if (!segments[i].equals(parts[i])) {
          return Optional.empty();
        }
      } else if (parts[i].isEmpty()) {
        return Optional.empty();
      }
    }
    Map<String, String> bound = new HashMap<>();
    for (int i = 0; i < parts.length; i++) {
      if (variables[i] != null) {
        bound.put(variables[i], parts[i]);
      }
    }
    return Optional.of(Map.copyOf(bound));
  }

  /** Whether both templates match the same paths (same literals, variables in the same places). */
  boolean sameShape(RouteTemplate other) {
    if (segments.length != other.segments.length) {
      return false;
    }
    for (int i = 0; i < segments.length; i++) {
      boolean var = variables[i] != null;
      if (var != (other.variables[i] != null) || (!var && !segments[i].equals(other.segments[i]))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int compareTo(RouteTemplate other) {
    int n = Math.min(segments.length, other.segments.length);
    for (int i = 0; i < n; i++) {
      boolean a = variables[i] != null;
      boolean b = other.variables[i] != null;
      if (a != b) {
        return a ? 1 : -1;
      }
    }
    return Integer.compare(segments.length, other.segments.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteTemplate t && t.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
