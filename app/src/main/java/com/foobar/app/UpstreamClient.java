package com.foobar.app;

import com.foobar.core.ProxiedBody;
import io.undertow.client.ClientConnection;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.LoadBalancingProxyClient;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.util.AttachmentKey;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;

/**
 * The connection pool to one upstream, with the failures nginx reports as 502: no connection within
 * {@code connect-timeout}, connection refused, or the upstream marked down after such a failure
 * (retried after a second). Each is a WARN log event {@code upstream.error} and a JSON 502 ({@code
 * {"error":"bad_gateway"}}), where Undertow's pool would answer 503.
 *
 * <p>Pool: up to {@value #CONNECTIONS_PER_THREAD} connections per IO thread, {@value
 * #SOFT_MAX_PER_THREAD} of them kept when idle for a minute; requests beyond that wait in a queue
 * of {@value #QUEUE} instead of failing at once (Undertow's default).
 */
final class UpstreamClient implements ProxyClient {
  private static final Logger log = LoggerFactory.getLogger(UpstreamClient.class);

  /** The upstream connection a request got, for {@link #CUT_OFF}. */
  private static final AttachmentKey<ClientConnection> CONNECTION =
      AttachmentKey.create(ClientConnection.class);

  /**
   * Cuts a request whose body the client did not send whole off at its upstream connection ({@link
   * ProxiedBody}), with the INFO event {@code upstream.body_cut_off}.
   */
  static final ProxiedBody.Backend CUT_OFF =
      (exchange, fault, forwarded) -> {
        ClientConnection c = exchange.getAttachment(CONNECTION);
        if (c == null) {
          return;
        }
        ProxiedBody.abort(c);
        log.atInfo()
            .addKeyValue("event", "upstream.body_cut_off")
            .addKeyValue("reason", fault.reason)
            .log(
                "{} {}: request cut off at {} after {} bytes of its body: {}",
                exchange.getRequestMethod(),
                exchange.getRequestURI(),
                c.getPeerAddress(),
                forwarded,
                fault.reason);
      };

  static final int CONNECTIONS_PER_THREAD = 64;
  static final int SOFT_MAX_PER_THREAD = 16;
  static final int QUEUE = 1024;

  private final LoadBalancingProxyClient pool;
  private final String prefix;
  private final URI url;
  private final long connectTimeoutMillis;

  /**
   * @param url the upstream's {@code scheme://host:port}; its path is applied by {@link
   *     UpstreamProxy}
   */
  UpstreamClient(String prefix, URI url, Duration connectTimeout) {
    this.prefix = prefix;
    this.url = url;
    this.connectTimeoutMillis = connectTimeout.toMillis();
    this.pool =
        new LoadBalancingProxyClient()
            .setConnectionsPerThread(CONNECTIONS_PER_THREAD)
            .setSoftMaxConnectionsPerThread(SOFT_MAX_PER_THREAD)
            .setMaxQueueSize(QUEUE)
            .setTtl(60_000)
            .setProblemServerRetry(1)
            .addHost(URI.create(url.getScheme() + "://" + url.getRawAuthority()));
  }

  @Override
  public ProxyTarget findTarget(HttpServerExchange exchange) {
    if (ProxiedBody.fault(exchange) != null) {
      // cut off for the client's fault: the body is gone, no retry could send it
      return null;
    }
    return pool.findTarget(exchange);
  }

  @Override
  public List<ProxyTarget> getAllTargets() {
    return pool.getAllTargets();
  }

  @Override
  public void getConnection(
      ProxyTarget target,
      HttpServerExchange exchange,
      ProxyCallback<ProxyConnection> callback,
      long timeout,
      TimeUnit timeUnit) {
    Guard guard = new Guard(callback);
    guard.timer =
        exchange
            .getIoThread()
            .executeAfter(
                () -> guard.fail(exchange, "no connection within " + connectTimeoutMillis + " ms"),
                connectTimeoutMillis,
                TimeUnit.MILLISECONDS);
    pool.getConnection(target, exchange, guard, timeout, timeUnit);
  }

  /** Passes a connection on once; turns every failure (or the connect timeout) into a 502. */
  private final class Guard implements ProxyCallback<ProxyConnection> {
    private final ProxyCallback<ProxyConnection> next;
    private final AtomicBoolean settled = new AtomicBoolean();
    private XnioExecutor.Key timer = XnioExecutor.Key.IMMEDIATE;

    Guard(ProxyCallback<ProxyConnection> next) {
      this.next = next;
    }

    @Override
    public void completed(HttpServerExchange exchange, ProxyConnection connection) {
      if (settled.compareAndSet(false, true)) {
        timer.remove();
        exchange.putAttachment(CONNECTION, connection.getConnection());
        next.completed(exchange, connection);
      } else {
        // the 502 went out already; this late connection would have no request to carry
        IoUtils.safeClose(connection.getConnection());
      }
    }

    @Override
    public void failed(HttpServerExchange exchange) {
      fail(exchange, "connection failed");
    }

    @Override
    public void couldNotResolveBackend(HttpServerExchange exchange) {
      fail(exchange, "upstream is down (a recent connection failed)");
    }

    @Override
    public void queuedRequestFailed(HttpServerExchange exchange) {
      fail(exchange, "no pooled connection became free");
    }

    void fail(HttpServerExchange exchange, String reason) {
      if (!settled.compareAndSet(false, true)) {
        return;
      }
      timer.remove();
      log.atWarn()
          .addKeyValue("event", "upstream.error")
          .addKeyValue("prefix", prefix)
          .addKeyValue("upstream", url.toString())
          .addKeyValue("reason", reason)
          .log("upstream {} for {}: {}", url, prefix, reason);
      if (exchange.isResponseStarted()) {
        IoUtils.safeClose(exchange.getConnection());
        return;
      }
      Json.sendError(exchange, 502, "bad_gateway", "the upstream server is unavailable");
    }
  }
}
