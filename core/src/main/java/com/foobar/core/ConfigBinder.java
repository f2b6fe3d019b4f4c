package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Binds a merged configuration tree onto the configuration records by reflection: each record
 * component reads the key {@link Bind#key} of the mapping at its level. Supported component types:
 * the scalars of {@link ScalarBinder}, enums, nested records, {@code List<T>} (a missing list is
 * empty), {@code Map<String, T>} (a mapping of free names, in file order; missing is empty, a
 * {@code null} entry is dropped), {@code JsonNode} (any subtree, unchecked, for an application's
 * own settings; missing is an empty mapping) and {@code Optional<T>} (missing or {@code null} is
 * empty). Every problem is collected; binding goes on after one so that a single run reports all of
 * them.
 */
final class ConfigBinder {
  private final ScalarBinder scalars;
  private final Set<String> alreadyReported;
  private final List<String> problems;

  /**
   * A binder adding problems to {@code problems}, staying silent about the key paths in {@code
   * alreadyReported}, and resolving relative paths against {@code baseDir}.
   */
  ConfigBinder(Path baseDir, Set<String> alreadyReported, List<String> problems) {
    this.scalars = new ScalarBinder(baseDir, problems);
    this.alreadyReported = alreadyReported;
    this.problems = problems;
  }

  /** {@code root} bound to {@code type}; empty when a problem was reported. */
  <T extends Record> Optional<T> bind(JsonNode root, Class<T> type) {
    return bindRecord(root, type, "").map(type::cast);
  }

  private Optional<Object> bind(JsonNode node, Type type, String path, RecordComponent rules) {
    if (alreadyReported.contains(path)) {
      return Optional.empty();
    }
    if (type instanceof ParameterizedType generic) {
      Class<?> raw = (Class<?>) generic.getRawType();
      Type element = generic.getActualTypeArguments()[0];
      if (raw == Optional.class) {
        if (node.isMissingNode() || node.isNull()) {
          return Optional.of(Optional.empty());
        }
        return bind(node, element, path, rules).map(Optional::of);
      }
      if (raw == List.class) {
        return bindList(node, element, path, rules);
      }
      if (raw == Map.class) {
        return bindMap(node, generic.getActualTypeArguments()[1], path, rules);
      }
      throw new IllegalStateException("unsupported configuration type " + type + " at " + path);
    }
    Class<?> cls = (Class<?>) type;
    if (cls == JsonNode.class) {
      return Optional.of(node.isMissingNode() ? JsonNodeFactory.instance.objectNode() : node);
    }
    if (node.isMissingNode()) {
      problems.add(path + ": missing required key");
      return Optional.empty();
    }
    if (node.isNull()) {
      problems.add(path + ": a value is required (null only removes optional keys)");
      return Optional.empty();
    }
    if (ScalarBinder.isScalar(cls)) {
      if (!node.isValueNode()) {
        problems.add(path + ": expected " + ScalarBinder.describe(cls) + ", got " + shape(node));
        return Optional.empty();
      }
      return scalars.bind(node.asText(), cls, path, rules);
    }
    if (cls.isRecord()) {
      return bindRecord(node, cls, path);
    }
    throw new IllegalStateException("unsupported configuration type " + type + " at " + path);
  }

  private Optional<Object> bindList(
      JsonNode node, Type element, String path, RecordComponent rules) {
    if (node.isMissingNode()) {
      node = JsonNodeFactory.instance.arrayNode();
    }
    if (!node.isArray()) {
      problems.add(path + ": expected a list, got " + shape(node));
      return Optional.empty();
    }
    if (node.isEmpty() && rules.isAnnotationPresent(Bind.NonEmpty.class)) {
      problems.add(path + ": must list at least one entry, got []");
      return Optional.empty();
    }
    List<Object> values = new ArrayList<>(node.size());
    boolean ok = true;
    for (int i = 0; i < node.size(); i++) {
      Optional<Object> value = bind(node.get(i), element, path + "[" + i + "]", rules);
      ok &= value.isPresent();
      value.ifPresent(values::add);
    }
    return ok ? Optional.of(List.copyOf(values)) : Optional.empty();
  }

  private Optional<Object> bindMap(JsonNode node, Type value, String path, RecordComponent rules) {
    if (node.isMissingNode() || node.isNull()) {
      return Optional.of(Map.of());
    }
    if (!node.isObject()) {
      problems.add(path + ": expected a mapping of names, got " + shape(node));
      return Optional.empty();
    }
    Map<String, Object> values = new LinkedHashMap<>();
    boolean ok = true;
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      if (entry.getValue().isNull()) {
        continue; // `name: ~` removes an entry that the defaults define
      }
      Optional<Object> bound = bind(entry.getValue(), value, path + "." + entry.getKey(), rules);
      ok &= bound.isPresent();
      bound.ifPresent(v -> values.put(entry.getKey(), v));
    }
    return ok ? Optional.of(Collections.unmodifiableMap(values)) : Optional.empty();
  }

  private Optional<Object> bindRecord(JsonNode node, Class<?> type, String path) {
    RecordComponent[] components = type.getRecordComponents();
    List<String> keys = Arrays.stream(components).map(Bind::key).toList();
    if (!node.isObject()) {
      problems.add(
          path
              + ": expected a mapping with keys "
              + String.join(", ", keys)
              + ", got "
              + shape(node));
      return Optional.empty();
    }
    String prefix = path.isEmpty() ? "" : path + ".";
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!keys.contains(field.getKey())) {
        problems.add(prefix + field.getKey() + ": unknown key " + suggestion(field.getKey(), keys));
      }
    }
    Object[] values = new Object[components.length];
    boolean ok = true;
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      Optional<Object> value =
          bind(node.path(keys.get(i)), c.getGenericType(), prefix + keys.get(i), c);
      ok &= value.isPresent();
      values[i] = value.orElse(null);
    }
    if (!ok) {
      return Optional.empty();
    }
    Class<?>[] types =
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
    try {
      return Optional.of(type.getDeclaredConstructor(types).newInstance(values));
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException invalid) {
        problems.add((path.isEmpty() ? "(top level)" : path) + ": " + invalid.getMessage());
        return Optional.empty();
      }
      throw new IllegalStateException("constructing " + type.getSimpleName() + " failed", e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot construct " + type.getSimpleName(), e);
    }
  }

  /** "(did you mean 'listen'?)" when a valid key is close, else the list of valid keys. */
  static String suggestion(String unknown, List<String> valid) {
    Optional<String> closest =
        valid.stream().min(Comparator.comparingInt(k -> distance(unknown, k)));
    if (closest.isPresent()
        && distance(unknown, closest.get()) <= Math.max(2, unknown.length() / 3)) {
      return "(did you mean '" + closest.get() + "'?)";
    }
    return "(valid keys: " + String.join(", ", valid) + ")";
  }

  /** Levenshtein distance, case-insensitive. */
  static int distance(String a, String b) {
    String x = a.toLowerCase(java.util.Locale.ROOT);
    String y = b.toLowerCase(java.util.Locale.ROOT);
    int[] previous = new int[y.length() + 1];
    int[] current = new int[y.length() + 1];
    for (int j = 0; j <= y.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= x.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= y.length(); j++) {
        int substitute = previous[j - 1] + (x.charAt(i - 1) == y.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[y.length()];
  }

  private static String shape(JsonNode node) {
    if (node.isArray()) {
      return "a list";
    }
    if (node.isObject()) {
      return "a mapping";
    }
    return "'" + node.asText() + "'";
  }
}
