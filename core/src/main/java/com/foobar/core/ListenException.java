package com.foobar.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/**
 * A listener that cannot bind its address (taken, or a port the process may not use), named with
 * the address in the message: "cannot listen on 127.0.0.1:8443 (listener lb-https): Address already
 * in use". Undertow's own bind error names neither.
 */
public final class ListenException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  ListenException(String listener, HostPort address, IOException cause) {
    super(
        "cannot listen on " + address + " (listener " + listener + "): " + cause.getMessage(),
        cause);
  }

  /**
   * Binds {@code address} for a moment, as Undertow is about to, so that a listener whose address
   * is not free fails with its name rather than inside {@code Undertow.start()}. Port 0 is always
   * free.
   *
   * @throws ListenException when the address cannot be bound
   */
  static void checkFree(String listener, HostPort address) {
    if (address.port() == 0) {
      return;
    }
    try (ServerSocketChannel probe = ServerSocketChannel.open()) {
      // as Undertow binds: an address left in TIME_WAIT is free
      probe.socket().setReuseAddress(true);
      probe.bind(new InetSocketAddress(InetAddress.getByName(address.host()), address.port()));
    } catch (IOException e) {
      throw new ListenException(listener, address, e);
    }
  }
}
