package com.foobar.app;

import com.foobar.core.StaticConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

/**
 * Maps request paths to files under the root, safely, and builds {@link CacheEntry cache entries}.
 * Every method here touches the file system and runs on a worker thread.
 */
final class SiteFiles {

  /** Result of resolving a request path. */
  sealed interface Lookup permits NotFound, AddSlash, Listing, Found {}

  /** Nothing servable: missing, unsafe, outside the root, or not a regular file. */
  record NotFound() implements Lookup {}

  /** A directory requested without its trailing slash. */
  record AddSlash() implements Lookup {}

  /** A directory without an index file, listing enabled. */
  record Listing(Path directory) implements Lookup {}

  /** A regular file inside the root (real path, symlinks resolved). */
  record Found(Path file, long size, long mtimeMillis) implements Lookup {}

  private static final Lookup NOT_FOUND = new NotFound();
  private static final Lookup ADD_SLASH = new AddSlash();

  private final Path root;
  private final List<String> indexFiles;
  private final boolean directoryListing;
  private final MimeTypes mimeTypes = MimeTypes.bundled();
  private final CacheControlRules cacheControl;
  private final CompressibleTypes compressible;
  private final boolean precompressed;
  private final boolean gzip;
  private final long gzipMinSize;
  private final long maxFileSize;

  /**
   * @param realRoot the root, already resolved with {@link Path#toRealPath}
   */
  SiteFiles(StaticConfig config, Path realRoot) {
    this.root = realRoot;
    this.indexFiles = List.copyOf(config.indexFiles());
    this.directoryListing = config.directoryListing();
    this.cacheControl = new CacheControlRules(config.cacheControl());
    this.compressible = new CompressibleTypes(config.gzip().types());
    this.precompressed = config.precompressed();
    this.gzip = config.gzip().enabled();
    this.gzipMinSize = config.gzip().minSize().bytes();
    // a body, its gzip and brotli forms must fit an int-weighted cache entry together
    this.maxFileSize = Math.min(config.memoryCache().maxFileSize().bytes(), Integer.MAX_VALUE / 4);
  }

  /** Resolves a decoded request path ({@code /a/b.html}, {@code /dir/}) to what to serve. */
  Lookup resolve(String path) throws IOException {
    if (!RequestPaths.isSafe(path)) {
      return NOT_FOUND;
    }
    int start = 0;
    while (start < path.length() && path.charAt(start) == '/') {
      start++; // "//a" is "/a", as with nginx's merge_slashes; never an absolute path
    }
    Path candidate = root.resolve(path.substring(start)).normalize();
    if (!candidate.startsWith(root)) {
      return NOT_FOUND;
    }
    Optional<Path> real = realPathInsideRoot(candidate);
    if (real.isEmpty()) {
      return NOT_FOUND;
    }
    BasicFileAttributes attributes = Files.readAttributes(real.get(), BasicFileAttributes.class);
    if (attributes.isDirectory()) {
      if (!path.endsWith("/")) {
        return ADD_SLASH;
      }
      for (String index : indexFiles) {
        Optional<Path> indexFile = realPathInsideRoot(real.get().resolve(index));
        if (indexFile.isPresent()) {
          BasicFileAttributes indexAttributes =
              Files.readAttributes(indexFile.get(), BasicFileAttributes.class);
          if (indexAttributes.isRegularFile()) {
            return found(indexFile.get(), indexAttributes);
          }
        }
      }
      return directoryListing ? new Listing(real.get()) : NOT_FOUND;
    }
    if (!attributes.isRegularFile() || path.endsWith("/")) {
      return NOT_FOUND;
    }
    return found(real.get(), attributes);
  }

  /**
   * Builds the entry for a found file: in memory (with precompressed siblings and on-the-fly gzip)
   * when it is at most the memory-cache file size, else pointing at the files on disk.
   */
  CacheEntry entry(String path, Found found, long now) throws IOException {
    String type = mimeTypes.forFileName(found.file().getFileName().toString());
    boolean compressibleType = compressible.matches(type);
    boolean inMemory = found.size() <= maxFileSize;
    CacheEntry.Variant brotli = null;
    CacheEntry.Variant gzipped = null;
    if (precompressed) {
      brotli = sibling(found, ".br", "br", inMemory);
      gzipped = sibling(found, ".gz", "gzip", inMemory);
    }
    String etag = CacheEntry.etag(found.mtimeMillis(), found.size(), "");
    CacheEntry.Variant identity;
    if (inMemory) {
      byte[] bytes = Files.readAllBytes(found.file());
      identity = CacheEntry.Variant.inMemory(direct(bytes), etag, null);
      if (gzipped == null && gzip && compressibleType && bytes.length >= gzipMinSize) {
        byte[] compressed = Gzip.compress(bytes);
        if (compressed.length < bytes.length) {
          gzipped =
              CacheEntry.Variant.inMemory(
                  direct(compressed),
                  CacheEntry.etag(found.mtimeMillis(), found.size(), "-gzip"),
                  "gzip");
        }
      }
    } else {
      identity = CacheEntry.Variant.onDisk(found.file(), found.size(), etag, null);
    }
    return new CacheEntry(
        found.file(),
        found.size(),
        found.mtimeMillis(),
        type,
        cacheControl.forPath(path).orElse(null),
        compressibleType || brotli != null || gzipped != null,
        identity,
        gzipped,
        brotli,
        now);
  }

  private CacheEntry.Variant sibling(Found found, String suffix, String encoding, boolean inMemory)
      throws IOException {
    Path candidate = found.file().resolveSibling(found.file().getFileName() + suffix);
    Optional<Path> real = realPathInsideRoot(candidate);
    if (real.isEmpty()) {
      return null;
    }
    BasicFileAttributes attributes = Files.readAttributes(real.get(), BasicFileAttributes.class);
    if (!attributes.isRegularFile()) {
      return null;
    }
    String etag = CacheEntry.etag(found.mtimeMillis(), found.size(), "-" + encoding);
    if (!inMemory) {
      return CacheEntry.Variant.onDisk(real.get(), attributes.size(), etag, encoding);
    }
    if (attributes.size() > maxFileSize) {
      return null;
    }
    return CacheEntry.Variant.inMemory(direct(Files.readAllBytes(real.get())), etag, encoding);
  }

  private Optional<Path> realPathInsideRoot(Path path) throws IOException {
    Path real;
    try {
      real = path.toRealPath();
    } catch (NoSuchFileException | NotDirectoryException e) {
      return Optional.empty(); // a missing file is an answer (404), not a failure
    }
    return real.startsWith(root) ? Optional.of(real) : Optional.empty();
  }

  private static Found found(Path file, BasicFileAttributes attributes) {
    return new Found(file, attributes.size(), attributes.lastModifiedTime().toMillis());
  }

  private static ByteBuffer direct(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
    buffer.put(bytes).flip();
    return buffer.asReadOnlyBuffer();
  }
}
