package com.foobar.core;

import io.undertow.connector.ByteBufferPool;
import io.undertow.server.ConnectorStatistics;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;

/**
 * An open listener in front of Undertow's: it decides what happens to each connection ({@link
 * #handleEvent(StreamConnection, io.undertow.connector.PooledByteBuffer)}) and passes everything
 * else (root handler, options, buffers, statistics, closing) to {@link #undertow}.
 */
public abstract class ForwardingOpenListener implements DelegateOpenListener {
  /** Undertow's open listener, which the connections this does not keep go to. */
  protected final DelegateOpenListener undertow;

  protected ForwardingOpenListener(DelegateOpenListener undertow) {
    this.undertow = undertow;
  }

  @Override
  public void handleEvent(StreamConnection connection) {
    handleEvent(connection, null);
  }

  @Override
  public HttpHandler getRootHandler() {
    return undertow.getRootHandler();
  }

  @Override
  public void setRootHandler(HttpHandler rootHandler) {
    undertow.setRootHandler(rootHandler);
  }

  @Override
  public OptionMap getUndertowOptions() {
    return undertow.getUndertowOptions();
  }

  @Override
  public void setUndertowOptions(OptionMap undertowOptions) {
    undertow.setUndertowOptions(undertowOptions);
  }

  @Override
  public ByteBufferPool getBufferPool() {
    return undertow.getBufferPool();
  }

  @Override
  public ConnectorStatistics getConnectorStatistics() {
    return undertow.getConnectorStatistics();
  }

  @Override
  public void closeConnections() {
    undertow.closeConnections();
  }
}
