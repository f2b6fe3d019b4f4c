package com.foobar.core;

import java.net.InetAddress;
import java.util.List;

/**
 * Decides whether a peer may use a listener. Semantics: a peer is admitted when it matches at least
 * one {@code allow} network and no {@code deny} network. Deny always wins; an empty allow list
 * admits nobody.
 *
 * <p>{@link #update} replaces both lists at once (a configuration reload); the listener asks once
 * per connection, so the new lists decide for connections opened from then on, and connections
 * already admitted keep going.
 */
public final class AccessRule {
  private volatile Lists lists;

  private static final class Lists {
    final Cidr[] allow;
    final Cidr[] deny;

    Lists(List<Cidr> allow, List<Cidr> deny) {
      this.allow = allow.toArray(Cidr[]::new);
      this.deny = deny.toArray(Cidr[]::new);
    }
  }

  private AccessRule(List<Cidr> allow, List<Cidr> deny) {
    this.lists = new Lists(allow, deny);
  }

  /** A rule from an allow list and a deny list. */
  public static AccessRule of(List<Cidr> allow, List<Cidr> deny) {
    return new AccessRule(allow, deny);
  }

  /** A rule from a listener's {@link AccessConfig}. */
  public static AccessRule of(AccessConfig access) {
    return new AccessRule(access.allow(), access.deny());
  }

  /** Replaces both lists in one step; see the class comment for which connections it affects. */
  public void update(List<Cidr> allow, List<Cidr> deny) {
    lists = new Lists(allow, deny);
  }

  /** Whether {@code peer} is admitted. */
  public boolean admits(InetAddress peer) {
    Lists l = lists;
    for (Cidr d : l.deny) {
      if (d.contains(peer)) {
        return false;
      }
    }
    for (Cidr a : l.allow) {
      if (a.contains(peer)) {
        return true;
      }
    }
    return false;
  }
}
