package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Tree operations done before binding: deep merge over the defaults, environment substitution. */
final class ConfigTree {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private ConfigTree() {}

  /**
   * {@code over} merged onto a copy of {@code base}: mappings merge key by key, everything else
   * (lists, scalars, an explicit null) replaces what {@code base} holds. Neither argument changes.
   */
  static ObjectNode merge(ObjectNode base, ObjectNode over) {
    ObjectNode result = base.deepCopy();
    for (Map.Entry<String, JsonNode> e : over.properties()) {
      JsonNode mine = result.get(e.getKey());
      if (mine instanceof ObjectNode m && e.getValue() instanceof ObjectNode o) {
        result.set(e.getKey(), merge(m, o));
      } else {
        result.set(e.getKey(), e.getValue().deepCopy());
      }
    }
    return result;
  }

  /**
   * Replaces, in place, {@code ${VAR}} and {@code ${VAR:-default}} in every string scalar of {@code
   * tree} with values from {@code env}; {@code $${} stands for a literal {@code ${}. A variable that
   * is not set and has no default is a problem naming the key.
   *
   * @return the key paths whose substitution failed, so the binder does not report them twice
   */
  static Set<String> substitute(ObjectNode tree, Map<String, String> env, List<String> problems) {
    Set<String> failed = new HashSet<>();
    walk(tree, "", env, problems, failed);
    return failed;
  }

  private static void walk(
      JsonNode node, String path, Map<String, String> env, List<String> problems, Set<String> bad) {
    if (node instanceof ObjectNode object) {
      for (String name : object.properties().stream().map(Map.Entry::getKey).toList()) {
        String child = path.isEmpty() ? name : path + "." + name;
        JsonNode value = object.get(name);
        if (value.isTextual()) {
          expand(value.textValue(), child, env, problems, bad)
              .ifPresent(s -> object.set(name, TextNode.valueOf(s)));
        } else {
          walk(value, child, env, problems, bad);
        }
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        String child = path + "[" + i + "]";
        JsonNode value = array.get(i);
        if (value.isTextual()) {
          int index = i;
          expand(value.textValue(), child, env, problems, bad)
              .ifPresent(s -> array.set(index, TextNode.valueOf(s)));
        } else {
          walk(value, child, env, problems, bad);
        }
      }
    }
  }

  private static Optional<String> expand(
      String text, String path, Map<String, String> env, List<String> problems, Set<String> bad) {
    if (text.indexOf("${") < 0) {
      return Optional.empty();
    }
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      if (text.startsWith("$${", i)) {
        out.append("${");
        i += 3;
        continue;
      }
      if (!text.startsWith("${", i)) {
        out.append(text.charAt(i++));
        continue;
      }
      int close = text.indexOf('}', i);
      if (close < 0) {
        return fail(
            path, "unterminated ${ in '" + text + "' (write $${ for a literal ${)", problems, bad);
      }
      String body = text.substring(i + 2, close);
      int dash = body.indexOf(":-");
      String name = dash < 0 ? body : body.substring(0, dash);
      if (!NAME.matcher(name).matches()) {
        return fail(path, "malformed variable reference '${" + body + "}'", problems, bad);
      }
      String value = env.get(name);
      if (value == null && dash < 0) {
        return fail(
            path,
            "environment variable "
                + name
                + " is not set (write ${"
                + name
                + ":-default} to give a default)",
            problems,
            bad);
      }
      out.append(value != null ? value : body.substring(dash + 2));
      i = close + 1;
    }
    return Optional.of(out.toString());
  }

  private static Optional<String> fail(
      String path, String problem, List<String> problems, Set<String> bad) {
    problems.add(path + ": " + problem);
    bad.add(path);
    return Optional.empty();
  }
}
