package com.foobar.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/** Whole-buffer gzip at the best compression level; results are computed once and kept. */
final class Gzip {

  private Gzip() {}

  static byte[] compress(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 3 + 64);
    try (GZIPOutputStream gzip = new BestGzipOutputStream(out)) {
      gzip.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException("gzip into memory failed", e);
    }
    return out.toByteArray();
  }

  private static final class BestGzipOutputStream extends GZIPOutputStream {
    BestGzipOutputStream(ByteArrayOutputStream out) throws IOException {
      super(out, 8192);
      def.setLevel(Deflater.BEST_COMPRESSION);
    }
  }
}
