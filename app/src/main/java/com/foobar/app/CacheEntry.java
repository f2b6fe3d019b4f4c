package com.foobar.app;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Everything needed to answer a GET or HEAD for one file without touching the file system: the
 * validators and header values rendered once, and one to three representations (identity, gzip,
 * brotli). A cached entry holds its bodies in memory; an uncached one (a file larger than the
 * memory-cache limit) points at files sent zero-copy. Immutable except for {@link #checkedAt}.
 */
final class CacheEntry {

  /** Per-entry bookkeeping (object headers, strings) counted on top of the body bytes. */
  private static final int OVERHEAD = 512;

  /**
   * One representation of the file.
   *
   * @param body the bytes, read-only; null when the representation is sent from {@code file}
   * @param file the file to send when {@code body} is null
   * @param length body length in bytes
   * @param etag strong entity-tag, quoted
   * @param contentLength {@code length} rendered
   * @param encoding {@code Content-Encoding} value; null for identity
   */
  record Variant(
      ByteBuffer body, Path file, long length, String etag, String contentLength, String encoding) {

    static Variant inMemory(ByteBuffer body, String etag, String encoding) {
      return new Variant(
          body, null, body.remaining(), etag, Integer.toString(body.remaining()), encoding);
    }

    static Variant onDisk(Path file, long length, String etag, String encoding) {
      return new Variant(null, file, length, etag, Long.toString(length), encoding);
    }
  }

  final Path file;
  final long size;
  final long mtimeMillis;
  final String contentType;
  final String cacheControl; // null: no Cache-Control header
  final boolean vary;
  final String lastModified;
  final Variant identity;
  final Variant gzip; // null when absent
  final Variant brotli; // null when absent
  final int weight;

  /** Ticker time of the last check that the file on disk still matches this entry. */
  volatile long checkedAt;

  CacheEntry(
      Path file,
      long size,
      long mtimeMillis,
      String contentType,
      String cacheControl,
      boolean vary,
      Variant identity,
      Variant gzip,
      Variant brotli,
      long checkedAt) {
    this.file = file;
    this.size = size;
    this.mtimeMillis = mtimeMillis;
    this.contentType = contentType;
    this.cacheControl = cacheControl;
    this.vary = vary;
    this.lastModified = HttpDates.format(mtimeMillis);
    this.identity = identity;
    this.gzip = gzip;
    this.brotli = brotli;
    this.checkedAt = checkedAt;
    this.weight =
        (int) Math.min(Integer.MAX_VALUE, OVERHEAD + held(identity) + held(gzip) + held(brotli));
  }

  boolean inMemory() {
    return identity.body() != null;
  }

  boolean hasEncodings() {
    return gzip != null || brotli != null;
  }

  /** Whether the file still has the size and modification time this entry was built from. */
  boolean matches(Path realFile, long currentSize, long currentMtimeMillis) {
    return file.equals(realFile) && size == currentSize && mtimeMillis == currentMtimeMillis;
  }

  /** nginx's entity-tag: modification seconds and size in hex, {@code "5f3a9c10-400"}. */
  static String etag(long mtimeMillis, long size, String suffix) {
    return '"' + Long.toHexString(mtimeMillis / 1000) + '-' + Long.toHexString(size) + suffix + '"';
  }

  private static long held(Variant v) {
    return v == null || v.body() == null ? 0 : v.body().capacity();
  }
}
