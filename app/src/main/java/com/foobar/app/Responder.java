package com.foobar.app;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.StatusCodes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers GET and HEAD from a {@link CacheEntry}: content negotiation, conditional requests,
 * ranges. For an in-memory entry this runs on the IO thread and allocates little (a buffer view);
 * for an on-disk entry the caller must be on a worker thread.
 */
final class Responder {

  private static final String ACCEPT_ENCODING = "Accept-Encoding";
  private static final String BYTES = "bytes";
  private static final HttpString VARY = Headers.VARY;

  private final String boundary;
  private final String multipartType;

  /**
   * @param boundary the multipart boundary, long and random enough not to occur in files
   */
  Responder(String boundary) {
    this.boundary = boundary;
    this.multipartType = "multipart/byteranges; boundary=" + boundary;
  }

  void send(HttpServerExchange exchange, CacheEntry entry, boolean head) {
    HeaderMap request = exchange.getRequestHeaders();
    String range = request.getFirst(Headers.RANGE);
    CacheEntry.Variant variant = entry.identity;
    if (range == null && entry.hasEncodings()) {
      variant = negotiate(entry, request.getFirst(Headers.ACCEPT_ENCODING));
    }
    HeaderMap response = exchange.getResponseHeaders();
    response.put(Headers.ETAG, variant.etag());
    response.put(Headers.LAST_MODIFIED, entry.lastModified);
    if (entry.cacheControl != null) {
      response.put(Headers.CACHE_CONTROL, entry.cacheControl);
    }
    if (entry.vary) {
      response.put(VARY, ACCEPT_ENCODING);
    }
    String ifMatch = request.getFirst(Headers.IF_MATCH);
    String ifUnmodifiedSince = request.getFirst(Headers.IF_UNMODIFIED_SINCE);
    boolean preconditionFailed =
        ifMatch != null
            ? !Conditionals.matchHolds(ifMatch, variant.etag())
            : ifUnmodifiedSince != null
                && !Conditionals.unmodifiedSince(ifUnmodifiedSince, entry.mtimeMillis);
    if (preconditionFailed) {
      exchange.setStatusCode(StatusCodes.PRECONDITION_FAILED);
      response.put(Headers.CONTENT_LENGTH, "0");
      exchange.endExchange();
      return;
    }
    String ifNoneMatch = request.getFirst(Headers.IF_NONE_MATCH);
    boolean notModified;
    if (ifNoneMatch != null) {
      notModified = Conditionals.noneMatchHits(ifNoneMatch, variant.etag());
    } else {
      String ifModifiedSince = request.getFirst(Headers.IF_MODIFIED_SINCE);
      notModified =
          ifModifiedSince != null
              && Conditionals.notModifiedSince(
                  ifModifiedSince, entry.lastModified, entry.mtimeMillis);
    }
    if (notModified) {
      exchange.setStatusCode(StatusCodes.NOT_MODIFIED);
      exchange.endExchange();
      return;
    }
    response.put(Headers.CONTENT_TYPE, entry.contentType);
    if (variant.encoding() != null) {
      response.put(Headers.CONTENT_ENCODING, variant.encoding());
    } else {
      response.put(Headers.ACCEPT_RANGES, BYTES);
      if (range != null && rangeApplies(request, entry, variant)) {
        ByteRanges.Result result = ByteRanges.parse(range, variant.length());
        if (result instanceof ByteRanges.Unsatisfiable) {
          exchange.setStatusCode(StatusCodes.REQUEST_RANGE_NOT_SATISFIABLE);
          response.remove(Headers.CONTENT_TYPE);
          response.put(Headers.CONTENT_RANGE, "bytes */" + variant.length());
          response.put(Headers.CONTENT_LENGTH, "0");
          exchange.endExchange();
          return;
        }
        if (result instanceof ByteRanges.Satisfiable satisfiable) {
          sendRanges(exchange, entry, variant, satisfiable.ranges(), head);
          return;
        }
      }
    }
    response.put(Headers.CONTENT_LENGTH, variant.contentLength());
    if (head) {
      exchange.endExchange();
    } else if (variant.body() != null) {
      exchange.getResponseSender().send(variant.body().duplicate());
    } else {
      FileTransfer.whole(exchange, variant.file());
    }
  }

  private static CacheEntry.Variant negotiate(CacheEntry entry, String acceptEncoding) {
    if (acceptEncoding == null) {
      return entry.identity;
    }
    int allowed = AcceptEncoding.allowed(acceptEncoding);
    if (entry.brotli != null && (allowed & AcceptEncoding.BR) != 0) {
      return entry.brotli;
    }
    if (entry.gzip != null && (allowed & AcceptEncoding.GZIP) != 0) {
      return entry.gzip;
    }
    return entry.identity;
  }

  private static boolean rangeApplies(
      HeaderMap request, CacheEntry entry, CacheEntry.Variant variant) {
    String ifRange = request.getFirst(Headers.IF_RANGE);
    return ifRange == null
        || Conditionals.ifRangeHolds(ifRange, variant.etag(), entry.lastModified);
  }

  private void sendRanges(
      HttpServerExchange exchange,
      CacheEntry entry,
      CacheEntry.Variant variant,
      List<ByteRanges.Range> ranges,
      boolean head) {
    HeaderMap response = exchange.getResponseHeaders();
    exchange.setStatusCode(StatusCodes.PARTIAL_CONTENT);
    long size = variant.length();
    if (ranges.size() == 1) {
      ByteRanges.Range range = ranges.get(0);
      response.put(Headers.CONTENT_RANGE, contentRange(range, size));
      response.put(Headers.CONTENT_LENGTH, Long.toString(range.length()));
      if (head) {
        exchange.endExchange();
      } else if (variant.body() != null) {
        exchange.getResponseSender().send(slice(variant.body(), range));
      } else {
        FileTransfer.parts(exchange, variant.file(), List.of(new byte[0]), ranges, new byte[0]);
      }
      return;
    }
    List<byte[]> partHeaders = new ArrayList<>(ranges.size());
    long length = 0;
    for (ByteRanges.Range range : ranges) {
      byte[] header =
          ("\r\n--"
                  + boundary
                  + "\r\nContent-Type: "
                  + entry.contentType
                  + "\r\nContent-Range: "
                  + contentRange(range, size)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1);
      partHeaders.add(header);
      length += header.length + range.length();
    }
    byte[] trailer = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1);
    length += trailer.length;
    response.put(Headers.CONTENT_TYPE, multipartType);
    response.put(Headers.CONTENT_LENGTH, Long.toString(length));
    if (head) {
      exchange.endExchange();
    } else if (variant.body() != null) {
      ByteBuffer[] buffers = new ByteBuffer[ranges.size() * 2 + 1];
      for (int i = 0; i < ranges.size(); i++) {
        buffers[2 * i] = ByteBuffer.wrap(partHeaders.get(i));
        buffers[2 * i + 1] = slice(variant.body(), ranges.get(i));
      }
      buffers[buffers.length - 1] = ByteBuffer.wrap(trailer);
      exchange.getResponseSender().send(buffers);
    } else {
      FileTransfer.parts(exchange, variant.file(), partHeaders, ranges, trailer);
    }
  }

  private static String contentRange(ByteRanges.Range range, long size) {
    return "bytes " + range.first() + '-' + range.last() + '/' + size;
  }

  private static ByteBuffer slice(ByteBuffer body, ByteRanges.Range range) {
    ByteBuffer view = body.duplicate();
    view.limit((int) range.last() + 1).position((int) range.first());
    return view;
  }
}
