package com.foobar.lb;

import io.undertow.protocols.http2.Http2Channel;
import io.undertow.protocols.http2.Http2StreamSourceChannel;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http2.Http2ServerConnection;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * What Undertow knows about an HTTP/2 request but does not say: whether the stream's HEADERS frame
 * ended it, so that no body follows. Undertow marks such a request complete only once its request
 * channel has been read (which would take the channel from Undertow's proxy when a body does
 * follow); the flag sits in its stream channel ({@code
 * Http2StreamSourceChannel.isHeadersEndStream}, package-private), reached through the connection's
 * private {@code requestChannel}. Both are read through method handles made once; an Undertow that
 * renames them fails here when the class loads, and {@code StreamRelayTest} fails with it.
 */
final class Http2Requests {
  private static final MethodHandle REQUEST_CHANNEL;
  private static final MethodHandle HEADERS_END_STREAM;

  static {
    try {
      Field channel = Http2ServerConnection.class.getDeclaredField("requestChannel");
      channel.setAccessible(true);
      Method endStream = Http2StreamSourceChannel.class.getDeclaredMethod("isHeadersEndStream");
      endStream.setAccessible(true);
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      REQUEST_CHANNEL = lookup.unreflectGetter(channel);
      HEADERS_END_STREAM = lookup.unreflect(endStream);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private Http2Requests() {}

  /** The HTTP/2 connection of {@code exchange}, a stream for which {@link #withoutBody} held. */
  static Http2Channel connection(HttpServerExchange exchange) {
    return requestChannel((Http2ServerConnection) exchange.getConnection())
        .getResponseChannel()
        .getChannel();
  }

  private static Http2StreamSourceChannel requestChannel(Http2ServerConnection connection) {
    try {
      return (Http2StreamSourceChannel) REQUEST_CHANNEL.invokeExact(connection);
    } catch (Throwable e) {
      throw new IllegalStateException("reading Undertow's HTTP/2 stream state", e);
    }
  }

  /** Whether {@code exchange} is an HTTP/2 stream whose request has no body. */
  static boolean withoutBody(HttpServerExchange exchange) {
    if (!(exchange.getConnection() instanceof Http2ServerConnection connection)) {
      return false;
    }
    if (exchange.isRequestComplete()) {
      return true;
    }
    Http2StreamSourceChannel channel = requestChannel(connection);
    try {
      return channel != null && (boolean) HEADERS_END_STREAM.invokeExact(channel);
    } catch (Throwable e) {
      throw new IllegalStateException("reading Undertow's HTTP/2 stream state", e);
    }
  }
}
