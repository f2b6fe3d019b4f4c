package com.foobar.app;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.StatusCodes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The static file handler. Hot path (IO thread, no dispatch, no file system): a GET or HEAD whose
 * relative path is in the memory cache and was checked within {@code revalidate}. Everything else
 * is dispatched to a worker: resolve safely, (re)build the entry, serve.
 */
final class StaticHandler implements HttpHandler {

  private static final String ALLOW = "GET, HEAD, OPTIONS";
  private static final String NOT_FOUND_PAGE = "/404.html";
  private static final String HTML = "text/html; charset=utf-8";

  private final Cache<String, CacheEntry> cache;
  private final SiteFiles files;
  private final Responder responder;
  private final Ticker ticker;
  private final long revalidateNanos;
  private final HttpHandler slowPath = this::serveFromDisk;

  StaticHandler(
      Cache<String, CacheEntry> cache,
      SiteFiles files,
      Responder responder,
      Ticker ticker,
      long revalidateNanos) {
    this.cache = cache;
    this.files = files;
    this.responder = responder;
    this.ticker = ticker;
    this.revalidateNanos = revalidateNanos;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    HttpString method = exchange.getRequestMethod();
    boolean head;
    if (method.equals(Methods.GET)) {
      head = false;
    } else if (method.equals(Methods.HEAD)) {
      head = true;
    } else {
      otherMethod(exchange, method);
      return;
    }
    // only keys that passed the safety checks are ever inserted, so a hit needs no checks
    CacheEntry entry = cache.getIfPresent(exchange.getRelativePath());
    if (entry != null && ticker.read() - entry.checkedAt < revalidateNanos) {
      responder.send(exchange, entry, head);
    } else if (exchange.isInIoThread()) {
      exchange.dispatch(slowPath);
    } else {
      serveFromDisk(exchange);
    }
  }

  private void serveFromDisk(HttpServerExchange exchange) throws Exception {
    boolean head = exchange.getRequestMethod().equals(Methods.HEAD);
    String path = exchange.getRelativePath();
    SiteFiles.Lookup lookup = files.resolve(path);
    if (lookup instanceof SiteFiles.Found found) {
      responder.send(exchange, current(path, found), head);
    } else if (lookup instanceof SiteFiles.AddSlash) {
      redirectWithSlash(exchange);
    } else if (lookup instanceof SiteFiles.Listing listing) {
      String html = DirectoryListing.render(listing.directory(), exchange.getRequestPath());
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, HTML);
      sendText(exchange, html, head);
    } else {
      notFound(exchange, head);
    }
  }

  /** The cached entry when the file is unchanged (marked checked now), else a fresh one. */
  private CacheEntry current(String path, SiteFiles.Found found) throws Exception {
    long now = ticker.read();
    CacheEntry cached = cache.policy().getIfPresentQuietly(path);
    if (cached != null && cached.matches(found.file(), found.size(), found.mtimeMillis())) {
      cached.checkedAt = now;
      return cached;
    }
    CacheEntry fresh = files.entry(path, found, now);
    if (fresh.inMemory()) {
      cache.put(path, fresh);
    } else if (cached != null) {
      cache.invalidate(path);
    }
    return fresh;
  }

  private void notFound(HttpServerExchange exchange, boolean head) throws Exception {
    exchange.setStatusCode(StatusCodes.NOT_FOUND);
    Optional<CacheEntry> page = notFoundPage();
    if (page.isEmpty()) {
      exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, "0");
      exchange.endExchange();
      return;
    }
    CacheEntry.Variant body = page.get().identity;
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, page.get().contentType);
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.contentLength());
    if (head) {
      exchange.endExchange();
    } else if (body.body() != null) {
      exchange.getResponseSender().send(body.body().duplicate());
    } else {
      FileTransfer.whole(exchange, body.file());
    }
  }

  private Optional<CacheEntry> notFoundPage() throws Exception {
    CacheEntry cached = cache.policy().getIfPresentQuietly(NOT_FOUND_PAGE);
    if (cached != null && ticker.read() - cached.checkedAt < revalidateNanos) {
      return Optional.of(cached);
    }
    if (files.resolve(NOT_FOUND_PAGE) instanceof SiteFiles.Found found) {
      return Optional.of(current(NOT_FOUND_PAGE, found));
    }
    return Optional.empty();
  }

  private static void redirectWithSlash(HttpServerExchange exchange) {
    // the raw (still encoded) path; collapse leading slashes so "//host" cannot become an
    // off-site, scheme-relative Location
    String uri = exchange.getRequestURI();
    int start = 0;
    while (start + 1 < uri.length() && uri.charAt(start) == '/' && uri.charAt(start + 1) == '/') {
      start++;
    }
    String query = exchange.getQueryString();
    String location = uri.substring(start) + '/' + (query.isEmpty() ? "" : '?' + query);
    exchange.setStatusCode(StatusCodes.MOVED_PERMANENTLY);
    exchange.getResponseHeaders().put(Headers.LOCATION, location);
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, "0");
    exchange.endExchange();
  }

  private static void otherMethod(HttpServerExchange exchange, HttpString method) {
    exchange.setStatusCode(
        method.equals(Methods.OPTIONS) ? StatusCodes.NO_CONTENT : StatusCodes.METHOD_NOT_ALLOWED);
    exchange.getResponseHeaders().put(Headers.ALLOW, ALLOW);
    if (!method.equals(Methods.OPTIONS)) {
      exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, "0");
    }
    exchange.endExchange();
  }

  private static void sendText(HttpServerExchange exchange, String text, boolean head) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, Integer.toString(bytes.length));
    if (head) {
      exchange.endExchange();
    } else {
      exchange.getResponseSender().send(ByteBuffer.wrap(bytes));
    }
  }
}
