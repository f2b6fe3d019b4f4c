package com.foobar.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The website bundled in the jar under {@code static/}, served when {@code backend.static.root} is
 * not set.
 */
public final class BundledSite {

  /** A file every bundled site has; it locates the {@code static/} folder on the class path. */
  private static final String MARKER = "static/index.html";

  private BundledSite() {}

  /**
   * Copies the bundled site to a fresh temporary directory, deleted when the JVM exits, and returns
   * it. Works from the fat jar and from an exploded classes directory. No {@code .gz} siblings are
   * made here: the files are small, so the memory cache compresses each once, on first request.
   *
   * @throws IllegalStateException when the class path holds no {@code static/index.html}
   * @throws UncheckedIOException when the copy fails
   */
  public static Path extract() {
    URL marker = BundledSite.class.getClassLoader().getResource(MARKER);
    if (marker == null) {
      throw new IllegalStateException("bundled site missing: no " + MARKER + " on the class path");
    }
    return extract(marker);
  }

  /**
   * Extracts the site whose {@code index.html} is at {@code marker}, a {@code jar:} or {@code
   * file:} URL.
   */
  static Path extract(URL marker) {
    try {
      Path target = Files.createTempDirectory("foobar-static-");
      target.toFile().deleteOnExit();
      URI uri = marker.toURI();
      if (uri.getScheme().equals("jar")) {
        String spec = uri.getRawSchemeSpecificPart();
        Path jar = Path.of(new URI(spec.substring(0, spec.indexOf("!/"))));
        // JarFile, unlike the zip file system provider, is already loaded: start-up stays short
        try (JarFile jarFile = new JarFile(jar.toFile())) {
          copyEntries(jarFile, target);
        }
      } else {
        copyTree(Path.of(uri).getParent(), target);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the bundled site", e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException("bundled site has an unusable location: " + marker, e);
    }
  }

  private static void copyTree(Path source, Path target) throws IOException {
    // sorted, so a directory is created (and registered for deletion) before its children;
    // deleteOnExit runs in reverse order, children first
    try (Stream<Path> tree = Files.walk(source)) {
      for (Path from : tree.sorted().toList()) {
        Path to = target.resolve(source.relativize(from).toString());
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
          to.toFile().deleteOnExit();
        } else {
          Files.copy(from, to);
          to.toFile().deleteOnExit();
        }
      }
    }
  }

  private static void copyEntries(JarFile jar, Path target) throws IOException {
    String prefix = "static/";
    for (JarEntry entry : Collections.list(jar.entries())) {
      String name = entry.getName();
      if (!name.startsWith(prefix) || name.length() == prefix.length()) {
        continue;
      }
      String relative = name.substring(prefix.length());
      Path to = target.resolve(relative).normalize();
      if (!to.startsWith(target)) {
        throw new IOException("bundled site entry leaves the site: " + name);
      }
      directories(target, entry.isDirectory() ? to : to.getParent());
      if (!entry.isDirectory()) {
        try (InputStream in = jar.getInputStream(entry)) {
          Files.copy(in, to);
        }
        to.toFile().deleteOnExit();
      }
    }
  }

  /** Creates {@code dir} and its missing parents below {@code root}, outermost first. */
  private static void directories(Path root, Path dir) throws IOException {
    Path current = root;
    for (Path part : root.relativize(dir)) {
      current = current.resolve(part.toString());
      if (!Files.isDirectory(current)) {
        Files.createDirectory(current);
        current.toFile().deleteOnExit();
      }
    }
  }
}
