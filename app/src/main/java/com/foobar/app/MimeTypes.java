package com.foobar.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Media types by file extension, read once from an nginx-format {@code mime.types} table. Lookups
 * are case-insensitive on the extension; unknown extensions map to {@code
 * application/octet-stream}, as nginx's {@code default_type} usually does.
 */
final class MimeTypes {

  static final String DEFAULT_TYPE = "application/octet-stream";

  private static final MimeTypes BUNDLED = load();

  private final Map<String, String> byExtension;

  private MimeTypes(Map<String, String> byExtension) {
    this.byExtension = Map.copyOf(byExtension);
  }

  /** The table shipped in {@code com/foobar/app/mime.types}. */
  static MimeTypes bundled() {
    return BUNDLED;
  }

  /** The full {@code Content-Type} value (with charset for text types) for a file name. */
  String forFileName(String fileName) {
    int dot = fileName.lastIndexOf('.');
    if (dot < 0 || dot == fileName.length() - 1 || fileName.indexOf('/', dot) >= 0) {
      return DEFAULT_TYPE;
    }
    return byExtension.getOrDefault(
        fileName.substring(dot + 1).toLowerCase(Locale.ROOT), DEFAULT_TYPE);
  }

  /** Number of extensions known. */
  int size() {
    return byExtension.size();
  }

  private static MimeTypes load() {
    try (InputStream in = MimeTypes.class.getResourceAsStream("mime.types")) {
      if (in == null) {
        throw new IllegalStateException("resource com/foobar/app/mime.types is missing");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read com/foobar/app/mime.types", e);
    }
  }

  /**
   * Parses nginx's format: {@code types { type ext ext; ... }}, {@code #} comments, types that
   * contain spaces double-quoted. A later mapping of an extension replaces an earlier one.
   *
   * @throws IllegalArgumentException naming the token and its position when the text is malformed
   */
  static MimeTypes parse(String text) {
    List<String> tokens = tokenize(text);
    if (tokens.size() < 3 || !tokens.get(0).equals("types") || !tokens.get(1).equals("{")) {
      throw new IllegalArgumentException("mime.types must start with 'types {'");
    }
    Map<String, String> map = new HashMap<>();
    int i = 2;
    while (i < tokens.size() && !tokens.get(i).equals("}")) {
      String type = tokens.get(i++);
      int extensions = 0;
      while (i < tokens.size() && !tokens.get(i).equals(";")) {
        map.put(tokens.get(i++).toLowerCase(Locale.ROOT), type);
        extensions++;
      }
      if (i == tokens.size() || extensions == 0) {
        throw new IllegalArgumentException(
            "mime.types: type '" + type + "' needs extensions and ';'");
      }
      i++;
    }
    if (i != tokens.size() - 1) {
      throw new IllegalArgumentException("mime.types: expected one closing '}' at the end");
    }
    return new MimeTypes(map);
  }

  private static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      char c = text.charAt(i);
      if (c == '#') {
        while (i < n && text.charAt(i) != '\n') {
          i++;
        }
      } else if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '{' || c == '}' || c == ';') {
        tokens.add(String.valueOf(c));
        i++;
      } else if (c == '"') {
        int end = text.indexOf('"', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("mime.types: unterminated quote at offset " + i);
        }
        tokens.add(text.substring(i + 1, end));
        i = end + 1;
      } else {
        int start = i;
        while (i < n
            && !Character.isWhitespace(text.charAt(i))
            && ";{}\"#".indexOf(text.charAt(i)) < 0) {
          i++;
        }
        tokens.add(text.substring(start, i));
      }
    }
    return tokens;
  }
}
