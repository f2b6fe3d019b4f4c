package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Reader;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads YAML into a tree of Jackson nodes with SnakeYAML's composer, without an {@code
 * ObjectMapper} (whose set-up alone costs a third of a second of start-up on one core). Every
 * scalar stays the text it was written as, so {@code yes}, {@code on} or {@code 010} are never
 * reinterpreted: the binder decides what a value means from the key it is bound to. Plain {@code
 * ~}, {@code null} and empty values are null.
 */
final class YamlTree {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private YamlTree() {}

  /** Thrown for malformed YAML or a duplicate key, with its 1-based line and column. */
  static final class SyntaxError extends Exception {
    private static final long serialVersionUID = 1L;
    final int line;
    final int column;

    SyntaxError(String problem, int line, int column) {
      super(problem);
      this.line = line;
      this.column = column;
    }
  }

  /** The document's root node; empty for an empty document. */
  static Optional<JsonNode> read(Reader in) throws SyntaxError {
    Node root;
    try {
      root = new Yaml(new LoaderOptions()).compose(in);
    } catch (MarkedYAMLException e) {
      Mark at = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String context = e.getContext();
      Mark contextAt = e.getContextMark();
      String problem =
          oneLine(e.getProblem())
              + (context == null || contextAt == null
                  ? ""
                  : " ("
                      + oneLine(context)
                      + " at "
                      + (contextAt.getLine() + 1)
                      + ":"
                      + (contextAt.getColumn() + 1)
                      + ")");
      throw new SyntaxError(
          problem, at == null ? 1 : at.getLine() + 1, at == null ? 1 : at.getColumn() + 1);
    }
    return root == null ? Optional.empty() : Optional.of(convert(root));
  }

  private static JsonNode convert(Node node) throws SyntaxError {
    if (node instanceof MappingNode mapping) {
      ObjectNode object = NODES.objectNode();
      for (NodeTuple tuple : mapping.getValue()) {
        JsonNode key = convert(tuple.getKeyNode());
        String name = key.isNull() ? "null" : key.asText();
        if (object.has(name)) {
          Mark at = tuple.getKeyNode().getStartMark();
          throw new SyntaxError(
              "duplicate key '" + name + "'", at.getLine() + 1, at.getColumn() + 1);
        }
        object.set(name, convert(tuple.getValueNode()));
      }
      return object;
    }
    if (node instanceof SequenceNode sequence) {
      ArrayNode array = NODES.arrayNode();
      for (Node item : sequence.getValue()) {
        array.add(convert(item));
      }
      return array;
    }
    ScalarNode scalar = (ScalarNode) node;
    if (scalar.isPlain() && Tag.NULL.equals(scalar.getTag())) {
      return NODES.nullNode();
    }
    return NODES.textNode(scalar.getValue());
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\n\\s*", " ");
  }
}
