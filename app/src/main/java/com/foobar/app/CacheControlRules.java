package com.foobar.app;

import com.foobar.core.StaticConfig.CacheControlRule;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code Cache-Control} values by request-path glob, compiled once. In a glob {@code *} matches
 * within one path segment, {@code **} across segments (so {@code **.html} matches {@code
 * /a/b.html}), {@code ?} one character other than {@code /}; everything else is literal. The first
 * matching rule wins. Evaluated when a response is prepared for a file, never per cache hit.
 */
final class CacheControlRules {

  private record Compiled(Pattern glob, String value) {}

  private final List<Compiled> rules;

  CacheControlRules(List<CacheControlRule> rules) {
    this.rules =
        rules.stream()
            .map(r -> new Compiled(Pattern.compile(toRegex(r.path())), r.value()))
            .toList();
  }

  /** The value of the first rule whose glob matches {@code path}, if any. */
  Optional<String> forPath(String path) {
    for (Compiled rule : rules) {
      if (rule.glob.matcher(path).matches()) {
        return Optional.of(rule.value);
      }
    }
    return Optional.empty();
  }

  /** Translates a glob to an anchored regular expression. */
  static String toRegex(String glob) {
    StringBuilder regex = new StringBuilder(glob.length() + 16);
    StringBuilder literal = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' || c == '?') {
        if (literal.length() > 0) {
          regex.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        if (c == '?') {
          regex.append("[^/]");
        } else if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          regex.append(".*");
          i++;
        } else {
          regex.append("[^/]*");
        }
      } else {
        literal.append(c);
      }
    }
    if (literal.length() > 0) {
      regex.append(Pattern.quote(literal.toString()));
    }
    return regex.toString();
  }
}
