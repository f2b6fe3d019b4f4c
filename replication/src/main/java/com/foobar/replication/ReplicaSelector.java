package com.foobar.replication;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which replica serves the next read. Replicas start up; one that {@link #failed failed} is down
 * and skipped for {@code retry}; after that exactly one read (the probe) is let through to try it
 * again, and the window restarts for everyone else, so a dead replica costs at most one slow read
 * per {@code retry}. A read that {@link #succeeded succeeds} there marks it up again. Among the
 * usable replicas reads go round-robin.
 *
 * <p>Logs {@code db.replica_down} (WARN) and {@code db.replica_up} (INFO) on each change. Time
 * comes from the injected {@code ticker} (nanoseconds, like {@link System#nanoTime()}).
 * Thread-safe.
 */
final class ReplicaSelector {
  private static final Logger log = LoggerFactory.getLogger(ReplicaSelector.class);

  /** A replica's pool name ({@code replica-1}, ...) and {@code host:port}. */
  record Server(String name, String address) {
    @Override
    public String toString() {
      return name + " (" + address + ")";
    }
  }

  private static final class State {
    boolean up = true;
    long downSince;
    long retryAt;
    String reason = "";
  }

  private final List<Server> replicas;
  private final Map<Server, State> states = new HashMap<>();
  private final Map<String, Long> lastLogged = new HashMap<>();
  private final long retryNanos;
  private final LongSupplier ticker;
  private int next;

  ReplicaSelector(List<Server> replicas, Duration retry, LongSupplier ticker) {
    this.replicas = List.copyOf(replicas);
    this.retryNanos = retry.toNanos();
    this.ticker = ticker;
    this.replicas.forEach(r -> states.put(r, new State()));
  }

  /**
   * The replica for the next read: the next usable one round-robin, where usable means up, or down
   * with its retry time reached (then this read is the probe and the others keep skipping it for
   * another {@code retry}). Empty when none is usable; {@link #skipped()} says why.
   */
  synchronized Optional<Server> pick() {
    long now = ticker.getAsLong();
    for (int i = 0; i < replicas.size(); i++) {
      int index = (next + i) % replicas.size();
      Server server = replicas.get(index);
      State state = states.get(server);
      if (state.up || now - state.retryAt >= 0) {
        if (!state.up) {
          state.retryAt = now + retryNanos;
        }
        next = index + 1;
        return Optional.of(server);
      }
    }
    return Optional.empty();
  }

  /** Marks {@code server} down for {@code retry} from now because of {@code reason}. */
  synchronized void failed(Server server, String reason) {
    long now = ticker.getAsLong();
    State state = states.get(server);
    state.retryAt = now + retryNanos;
    state.reason = reason;
    if (state.up) {
      state.up = false;
      state.downSince = now;
      log.atWarn()
          .addKeyValue("event", "db.replica_down")
          .addKeyValue("replica", server.name())
          .addKeyValue("address", server.address())
          .addKeyValue("reason", reason)
          .log("{} down, reads skip it for {}: {}", server, human(retryNanos), reason);
    }
  }

  /** Marks {@code server} up (a read there just succeeded). */
  synchronized void succeeded(Server server) {
    State state = states.get(server);
    if (!state.up) {
      state.up = true;
      long downFor = ticker.getAsLong() - state.downSince;
      log.atInfo()
          .addKeyValue("event", "db.replica_up")
          .addKeyValue("replica", server.name())
          .addKeyValue("address", server.address())
          .addKeyValue("down_ms", Duration.ofNanos(downFor).toMillis())
          .log("{} up again after {}", server, human(downFor));
    }
  }

  /** Whether {@code server} is up (it is until a read there fails). */
  synchronized boolean up(Server server) {
    return states.get(server).up;
  }

  /**
   * Why no replica is usable, one clause per replica, e.g. {@code replica-1 (127.0.0.1:3307)
   * skipped: down since 2.0s ago (Communications link failure), retry in 1.2s}.
   */
  synchronized String skipped() {
    if (replicas.isEmpty()) {
      return "no replicas configured";
    }
    long now = ticker.getAsLong();
    StringBuilder out = new StringBuilder();
    for (Server server : replicas) {
      State state = states.get(server);
      if (out.length() > 0) {
        out.append("; ");
      }
      out.append(server);
      if (state.up) {
        out.append(" up");
      } else {
        out.append(" skipped: down since ")
            .append(human(now - state.downSince))
            .append(" ago (")
            .append(state.reason)
            .append("), retry in ")
            .append(human(Math.max(0, state.retryAt - now)));
      }
    }
    return out.toString();
  }

  /**
   * Whether a fallback away from {@code key} (a replica name, or {@code none}) should be logged:
   * true at most once per {@code retry} per key, because a dead replica would otherwise log on
   * every read. The metric counts every fallback.
   */
  synchronized boolean shouldLog(String key) {
    long now = ticker.getAsLong();
    Long last = lastLogged.get(key);
    if (last != null && now - last < retryNanos) {
      return false;
    }
    lastLogged.put(key, now);
    return true;
  }

  /** {@code 250ms}, {@code 1.2s}. */
  static String human(long nanos) {
    long millis = Duration.ofNanos(nanos).toMillis();
    return millis < 1000 ? millis + "ms" : String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
  }
}
