package com.foobar.app;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain HTML index of a directory, like nginx's autoindex: names sorted, directories with a
 * trailing slash, hidden (dot) files left out, every name HTML-escaped and URL-encoded in links.
 */
final class DirectoryListing {

  private DirectoryListing() {}

  static String render(Path directory, String requestPath) throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> children = Files.newDirectoryStream(directory)) {
      for (Path child : children) {
        String name = child.getFileName().toString();
        if (!name.startsWith(".")) {
          names.add(Files.isDirectory(child) ? name + "/" : name);
        }
      }
    }
    names.sort(null);
    String title = "Index of " + escape(requestPath);
    StringBuilder html = new StringBuilder(256 + names.size() * 64);
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>")
        .append(title)
        .append("</title></head>\n<body>\n<h1>")
        .append(title)
        .append("</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n");
    for (String name : names) {
      html.append("<li><a href=\"")
          .append(escape(encode(name)))
          .append("\">")
          .append(escape(name))
          .append("</a></li>\n");
    }
    return html.append("</ul>\n</body>\n</html>\n").toString();
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static String encode(String name) {
    boolean directory = name.endsWith("/");
    String bare = directory ? name.substring(0, name.length() - 1) : name;
    String encoded = URLEncoder.encode(bare, StandardCharsets.UTF_8).replace("+", "%20");
    return directory ? encoded + "/" : encoded;
  }
}
