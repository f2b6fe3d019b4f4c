package com.foobar.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS side of one server listener: an {@link SSLContext} whose certificate is chosen by SNI,
 * the protocol and cipher suite policy the listener applies, and hot reload of the PEM files.
 *
 * <p>Policy: TLS 1.3 and 1.2 only; forward-secret AEAD suites only ({@link #CIPHER_SUITES}); no
 * client-initiated renegotiation. The protocols and suites live in {@link #protocols()} / {@link
 * #cipherSuites()}: the listener sets them on every JDK engine ({@link
 * HttpServerBuilder#httpsListener} does); OpenSSL's context carries them itself ({@link
 * #policyInContext()}). Renegotiation can only be refused JVM-wide: loading this class sets {@code
 * jdk.tls.rejectClientInitiatedRenegotiation=true}, which the JDK reads at its first server
 * handshake, so it holds for every TLS server in the process.
 *
 * <p>Reload: {@link #reload()} reads every file again and swaps the key material in one step; new
 * handshakes see it, open connections keep theirs. When a file is broken the old material keeps
 * serving and {@code tls.reload_failed} (WARN, naming the file) is logged; success logs {@code
 * tls.reloaded}. {@link #watch(Duration)} polls the files' modification times. The client CA
 * ({@link Builder#clientCa}) is read once, at build.
 *
 * <p>Engine: the JDK's by default; {@link Builder#engine} {@link TlsEngine#OPENSSL} serves the
 * default certificate through OpenSSL ({@link OpenSslContext}) with the same protocols and suites
 * (set once on OpenSSL's context, which its engines inherit; OpenSSL 3 refuses client-initiated
 * renegotiation by default). It takes neither SNI certificates nor a client CA; a reload builds a
 * new OpenSSL context for new handshakes.
 */
public final class ServerTls implements AutoCloseable {
  /** Enabled protocols, newest first. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** Enabled cipher suites, in server preference order: forward-secret AEAD only. */
  public static final List<String> CIPHER_SUITES =
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  static {
    // a TLS 1.2 client may otherwise renegotiate again and again on one connection, each time
    // making the server do a full handshake's work (testssl.sh: "DoS threat"); TLS 1.3 has no
    // renegotiation. The JDK reads the property once, at its first server handshake, which comes
    // after this class is loaded (a listener needs a ServerTls).
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }

  /** One certificate slot: read from files (reloadable), or fixed (self-signed). */
  private record Source(String key, Optional<TlsConfig> files, Optional<CertifiedKey> fixed) {
    CertifiedKey load() {
      return fixed.orElseGet(() -> CertifiedKey.load(key, files.orElseThrow()));
    }

    List<Path> paths() {
      return files.map(f -> List.of(f.cert(), f.key())).orElse(List.of());
    }
  }

  private final String listener;
  private final Source fallback;
  private final List<Source> sni;
  private final boolean clientCa;
  private final SniKeyManager keys;
  private final SSLContext context;
  private final Optional<OpenSslContext> openSsl;
  private final Object reloading = new Object();
  private List<FileTime> stamps;
  private ScheduledExecutorService watcher;

  private ServerTls(
      String listener,
      Source fallback,
      List<Source> sni,
      Optional<KeyStore> trust,
      SniKeyManager keys,
      Optional<OpenSslContext> openSsl) {
    this.listener = listener;
    this.fallback = fallback;
    this.sni = sni;
    this.clientCa = trust.isPresent();
    this.keys = keys;
    this.openSsl = openSsl;
    this.stamps = stamps();
    if (openSsl.isPresent()) {
      context = openSsl.get().context();
      return;
    }
    try {
      TrustManager[] trustManagers = null;
      if (trust.isPresent()) {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust.get());
        trustManagers = tmf.getTrustManagers();
      }
      context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keys}, trustManagers, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK's TLS provider cannot be set up", e);
    }
  }

  /**
   * Starts describing the TLS of the listener called {@code listener} (named in log events).
   * Exactly one of {@link Builder#certificate} and {@link Builder#selfSigned} must be called.
   */
  public static Builder builder(String listener) {
    return new Builder(listener);
  }

  /** Collects the certificates, then reads them all. */
  public static final class Builder {
    private final String listener;
    private Source fallback;
    private final List<Source> sni = new ArrayList<>();
    private Optional<KeyStore> trust = Optional.empty();
    private TlsEngine engine = TlsEngine.JDK;
    private String engineKey = "tls-engine";

    private Builder(String listener) {
      this.listener = listener;
    }

    /**
     * The default certificate (served when no SNI certificate matches), from PEM files.
     *
     * @param configKey the key that names them, e.g. {@code lb.tls}, for messages
     */
    public Builder certificate(String configKey, TlsConfig files) {
      fallback = new Source(configKey, Optional.of(files), Optional.empty());
      return this;
    }

    /** The default certificate: self-signed for {@code site} ({@link CertifiedKey#selfSigned}). */
    public Builder selfSigned(String site, Clock clock) {
      fallback =
          new Source(
              "self-signed", Optional.empty(), Optional.of(CertifiedKey.selfSigned(site, clock)));
      return this;
    }

    /**
     * One more certificate, served when the client's SNI name matches one of its DNS names. Earlier
     * ones win.
     *
     * @param configKey e.g. {@code lb.sni[0]}, for messages
     */
    public Builder sni(String configKey, TlsConfig files) {
      sni.add(new Source(configKey, Optional.of(files), Optional.empty()));
      return this;
    }

    /**
     * Client certificates are verified against {@code ca} alone (not the JDK's trust store). A
     * listener that requires them ({@code httpsListener(..., true, ...)}) needs this.
     *
     * @param configKey e.g. {@code backend.tls.ca}, for messages
     */
    public Builder clientCa(String configKey, Path ca) {
      trust = Optional.of(trustStore(configKey, ca));
      return this;
    }

    /**
     * The engine of the listener's handshakes; {@link TlsEngine#JDK} unless called.
     *
     * @param configKey the key that chose it, e.g. {@code lb.tls-engine}, for messages
     */
    public Builder engine(String configKey, TlsEngine engine) {
      this.engineKey = configKey;
      this.engine = engine;
      return this;
    }

    /**
     * Reads every file.
     *
     * @throws TlsMaterialException naming the key and file of the first unusable one
     * @throws IllegalStateException when no default certificate was given, or {@link
     *     TlsEngine#OPENSSL} with SNI certificates or a client CA (the config refuses those)
     * @throws ConfigException naming the engine's key when OpenSSL cannot be loaded
     */
    public ServerTls build() {
      if (fallback == null) {
        throw new IllegalStateException("ServerTls needs certificate(...) or selfSigned(...)");
      }
      if (engine == TlsEngine.OPENSSL && (!sni.isEmpty() || trust.isPresent())) {
        throw new IllegalStateException(
            "the openssl engine serves one certificate and verifies no clients");
      }
      SniKeyManager keys = new SniKeyManager(read(0, fallback, sni));
      Optional<OpenSslContext> openSsl =
          engine == TlsEngine.OPENSSL
              ? Optional.of(OpenSslContext.create(engineKey, keys.material().fallback()))
              : Optional.empty();
      return new ServerTls(listener, fallback, List.copyOf(sni), trust, keys, openSsl);
    }
  }

  /** A key store holding only the certificates of {@code ca}, as trust anchors. */
  static KeyStore trustStore(String configKey, Path ca) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (var cert : Pem.readCertificates(configKey, ca)) {
        store.setCertificateEntry("ca-" + i++, cert);
      }
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("an in-memory key store cannot be set up", e);
    }
  }

  private static SniKeyManager.Material read(long generation, Source fallback, List<Source> sni) {
    List<CertifiedKey> more = new ArrayList<>();
    for (Source s : sni) {
      more.add(s.load());
    }
    return new SniKeyManager.Material(generation, fallback.load(), more);
  }

  /** The context to give the listener; its key material changes on {@link #reload()}. */
  public SSLContext sslContext() {
    return context;
  }

  /** {@link #PROTOCOLS}. */
  public List<String> protocols() {
    return PROTOCOLS;
  }

  /** {@link #CIPHER_SUITES}. */
  public List<String> cipherSuites() {
    return CIPHER_SUITES;
  }

  /**
   * Whether every engine of {@link #sslContext()} starts with {@link #protocols()} and {@link
   * #cipherSuites()} already (OpenSSL's, set on its context), so a listener need not set them on
   * each engine; the JDK's engines start with the JDK's defaults.
   */
  public boolean policyInContext() {
    return openSsl.isPresent();
  }

  /** Whether {@link Builder#clientCa} was given, so client certificates can be verified. */
  public boolean verifiesClients() {
    return clientCa;
  }

  /** The leaf certificate now served to clients without a matching SNI name. */
  public CertifiedKey current() {
    return keys.material().fallback();
  }

  /**
   * Reads every certificate file again and, when all are usable, serves them to new handshakes.
   *
   * @return whether the new material is now served; false when a file is broken (the old material
   *     keeps serving; {@code tls.reload_failed} was logged)
   */
  public boolean reload() {
    synchronized (reloading) {
      stamps = stamps();
      SniKeyManager.Material next;
      try {
        next = read(keys.material().generation() + 1, fallback, sni);
        if (openSsl.isPresent()) {
          openSsl.get().use(next.fallback());
        }
      } catch (TlsMaterialException e) {
        log.atWarn()
            .addKeyValue("event", "tls.reload_failed")
            .addKeyValue("listener", listener)
            .addKeyValue("reason", e.getMessage())
            .log(
                "certificate reload failed, the previous certificates keep serving: {}",
                e.getMessage());
        return false;
      }
      keys.swap(next);
      if (openSsl.isEmpty()) {
        // sessions resumed from the cache would keep presenting the old certificate (OpenSSL's
        // new context starts with an empty cache)
        var sessions = context.getServerSessionContext();
        var ids = sessions.getIds();
        while (ids.hasMoreElements()) {
          var session = sessions.getSession(ids.nextElement());
          if (session != null) {
            session.invalidate();
          }
        }
      }
      log.atInfo()
          .addKeyValue("event", "tls.reloaded")
          .addKeyValue("listener", listener)
          .addKeyValue("names", next.fallback().names())
          .addKeyValue("not_after", next.fallback().leaf().getNotAfter().toInstant().toString())
          .log("certificates reloaded");
      return true;
    }
  }

  /**
   * Polls the certificate files' modification times every {@code interval} on a daemon thread and
   * calls {@link #reload()} when one changed. Without files (self-signed only) nothing is watched.
   * Calling it again has no effect.
   */
  public synchronized void watch(Duration interval) {
    if (watcher != null || paths().isEmpty()) {
      return;
    }
    watcher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tls-watch-" + listener);
              t.setDaemon(true);
              return t;
            });
    long ms = interval.toMillis();
    watcher.scheduleWithFixedDelay(this::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Reloads when a file's modification time differs from the last reload's. */
  boolean reloadIfChanged() {
    synchronized (reloading) {
      if (Objects.equals(stamps, stamps())) {
        return false;
      }
    }
    return reload();
  }

  private List<Path> paths() {
    List<Path> paths = new ArrayList<>(fallback.paths());
    sni.forEach(s -> paths.addAll(s.paths()));
    return paths;
  }

  private List<FileTime> stamps() {
    List<FileTime> times = new ArrayList<>();
    for (Path p : paths()) {
      try {
        times.add(Files.getLastModifiedTime(p));
      } catch (IOException e) {
        // a file being replaced may be missing for a moment: a change all the same
        times.add(FileTime.fromMillis(-1));
      }
    }
    return times;
  }

  /** Stops the watcher; the context stays usable. */
  @Override
  public synchronized void close() {
    if (watcher != null) {
      watcher.shutdownNow();
      watcher = null;
    }
  }
}
