package com.foobar.core;

import java.net.InetAddress;
import java.util.List;

/**
 * Decides whether a peer may use a listener. Semantics: a peer is admitted when it matches at least
 * one {@code allow} network and no {@code deny} network. Deny always wins; an empty allow list
 * admits nobody.
 */
public final class AccessRule {
  private final Cidr[] allow;
  private final Cidr[] deny;

  private AccessRule(List<Cidr> allow, List<Cidr> deny) {
    this.allow = allow.toArray(Cidr[]::new);
    this.deny = deny.toArray(Cidr[]::new);
  }

  /** A rule from an allow list and a deny list. */
  public static AccessRule of(List<Cidr> allow, List<Cidr> deny) {
    return new AccessRule(allow, deny);
  }

  /** A rule from a listener's {@link AccessConfig}. */
  public static AccessRule of(AccessConfig access) {
    return new AccessRule(access.allow(), access.deny());
  }

  /** Whether {@code peer} is admitted. */
  public boolean admits(InetAddress peer) {
    for (Cidr d : deny) {
      if (d.contains(peer)) {
        return false;
      }
    }
    for (Cidr a : allow) {
      if (a.contains(peer)) {
        return true;
      }
    }
    return false;
  }
}
