package com.foobar.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finds listener addresses that two listeners of one process would both bind. Port 0 (any free
 * port) never conflicts. Hosts are compared as written, without DNS: {@code 0.0.0.0:P} overlaps
 * every address on port P that is not an IPv6 literal, and {@code [::]:P} (dual-stack on Linux)
 * overlaps every address on port P.
 */
final class Listeners {
  private Listeners() {}

  private record Listener(String key, HostPort address) {}

  /** One line per conflict: {@code backend.admin: address 127.0.0.1:8081 is also used by ...}. */
  static List<String> conflicts(FoobarConfig config, Set<Role> roles) {
    List<Listener> listeners = new ArrayList<>();
    if (roles.contains(Role.LB)) {
      listeners.add(new Listener("lb.https", config.lb().https()));
      listeners.add(new Listener("lb.http", config.lb().http()));
      listeners.add(new Listener("lb.admin", config.lb().admin()));
    }
    if (roles.contains(Role.BACKEND)) {
      listeners.add(new Listener("backend.listen", config.backend().listen()));
      listeners.add(new Listener("backend.admin", config.backend().admin()));
    }
    if (roles.contains(Role.MONITOR)) {
      listeners.add(new Listener("monitor.listen", config.monitor().listen()));
    }
    List<String> conflicts = new ArrayList<>();
    for (int i = 0; i < listeners.size(); i++) {
      Listener later = listeners.get(i);
      for (Listener earlier : listeners.subList(0, i)) {
        HostPort a = later.address();
        HostPort b = earlier.address();
        if (a.port() == 0 || a.port() != b.port()) {
          continue;
        }
        if (host(a).equals(host(b))) {
          conflicts.add(later.key() + ": address " + a + " is also used by " + earlier.key());
          break;
        }
        if (overlaps(a, b)) {
          conflicts.add(
              later.key() + ": address " + a + " overlaps " + earlier.key() + " (" + b + ")");
          break;
        }
      }
    }
    return conflicts;
  }

  private static boolean overlaps(HostPort a, HostPort b) {
    return wildcardCovers(a, b) || wildcardCovers(b, a);
  }

  private static boolean wildcardCovers(HostPort wildcard, HostPort other) {
    String host = host(wildcard);
    if (host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
      return true;
    }
    return host.equals("0.0.0.0") && other.host().indexOf(':') < 0;
  }

  private static String host(HostPort address) {
    return address.host().toLowerCase(Locale.ROOT);
  }
}
