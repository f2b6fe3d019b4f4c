package com.foobar.core;

/** Which TLS implementation a server listener's handshakes and records go through. */
public enum TlsEngine {
  /** The JDK's own (JSSE): pure Java, always there. */
  JDK,
  /**
   * The system's OpenSSL (libssl 1.1 or 3) through wildfly-openssl's native bridge: several times
   * the JDK's handshakes per second with ECDSA and X25519, since the elliptic-curve math is native.
   * One certificate only (no choice by SNI); the library must be installed.
   */
  OPENSSL
}
