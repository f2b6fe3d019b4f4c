package com.foobar.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The website bundled in the jar under {@code static/}, served when {@code backend.static.root} is
 * not set.
 */
public final class BundledSite {

  /** A file every bundled site has; it locates the {@code static/} folder on the class path. */
  private static final String MARKER = "static/index.html";

  /** Types whose {@code .gz} sibling is generated, the default {@code gzip.types}. */
  private static final CompressibleTypes COMPRESSIBLE =
      new CompressibleTypes(
          List.of(
              "text/*",
              "application/javascript",
              "application/json",
              "application/xml",
              "image/svg+xml"));

  private BundledSite() {}

  /**
   * Copies the bundled site to a fresh temporary directory, deleted when the JVM exits, and returns
   * it. Works from the fat jar and from an exploded classes directory. Compressible files get a
   * {@code .gz} sibling (when smaller) so precompressed serving applies.
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
        try (FileSystem zip = FileSystems.newFileSystem(jar)) {
          copyTree(zip.getPath("/static"), target);
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
    MimeTypes mimeTypes = MimeTypes.bundled();
    // sorted, so a directory is created (and registered for deletion) before its children;
    // deleteOnExit runs in reverse order, children first
    try (Stream<Path> tree = Files.walk(source)) {
      for (Path from : tree.sorted().toList()) {
        Path to = target.resolve(source.relativize(from).toString());
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
          to.toFile().deleteOnExit();
          continue;
        }
        byte[] bytes = Files.readAllBytes(from);
        Files.write(to, bytes);
        to.toFile().deleteOnExit();
        String name = to.getFileName().toString();
        if (COMPRESSIBLE.matches(mimeTypes.forFileName(name))) {
          byte[] gzipped = Gzip.compress(bytes);
          if (gzipped.length < bytes.length) {
            Path sibling = to.resolveSibling(name + ".gz");
            Files.write(sibling, gzipped);
            sibling.toFile().deleteOnExit();
          }
        }
      }
    }
  }
}
