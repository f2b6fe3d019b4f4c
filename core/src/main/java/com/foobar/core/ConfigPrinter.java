package com.foobar.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Prints configuration records as YAML in the shape {@link ConfigLoader} reads: kebab-case keys,
 * durations and sizes as they are parsed ({@code 10s}, {@code 64MiB}), addresses, CIDRs, URLs and
 * paths as text, empty optionals omitted, and every {@link Secret} as {@code ******}.
 */
final class ConfigPrinter {
  static final String MASK = "******";
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
              .build());

  private ConfigPrinter() {}

  /** {@code config} as a YAML document. */
  static String toYaml(Record config) {
    try {
      return YAML.writeValueAsString(record(config));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot print the configuration", e);
    }
  }

  private static ObjectNode record(Record value) {
    ObjectNode node = NODES.objectNode();
    for (RecordComponent c : value.getClass().getRecordComponents()) {
      Object v;
      try {
        v = c.getAccessor().invoke(value);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c, e);
      }
      if (v instanceof Optional<?> optional) {
        optional.ifPresent(present -> node.set(Bind.key(c), node(present)));
      } else {
        node.set(Bind.key(c), node(v));
      }
    }
    return node;
  }

  private static JsonNode node(Object value) {
    if (value instanceof Secret) {
      return NODES.textNode(MASK);
    }
    if (value instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (value instanceof Integer i) {
      return NODES.numberNode(i);
    }
    if (value instanceof Long l) {
      return NODES.numberNode(l);
    }
    if (value instanceof Duration d) {
      return NODES.textNode(ScalarBinder.formatDuration(d));
    }
    if (value instanceof Enum<?> e) {
      return NODES.textNode(Bind.kebab(e.name()));
    }
    if (value instanceof JsonNode tree) {
      return tree.deepCopy();
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode object = NODES.objectNode();
      map.forEach((k, v) -> object.set(k.toString(), node(v)));
      return object;
    }
    if (value instanceof List<?> list) {
      ArrayNode array = NODES.arrayNode(list.size());
      list.forEach(element -> array.add(node(element)));
      return array;
    }
    if (value instanceof Record r && !ScalarBinder.isScalar(r.getClass())) {
      return record(r);
    }
    // String, HostPort, DataSize, Cidr, URI, Path: their toString is what the loader parses
    return NODES.textNode(value.toString());
  }
}
