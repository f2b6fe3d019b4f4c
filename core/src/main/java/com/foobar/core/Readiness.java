package com.foobar.core;

/**
 * Whether a role can serve: {@code /ready} answers 200 only in {@link State#READY}. A role starts
 * in {@link State#STARTING}, becomes ready once every listener is bound and its dependencies
 * answer, and turns {@link State#DRAINING} for good on SIGTERM.
 */
public final class Readiness {
  /** The life of a role. */
  public enum State {
    STARTING,
    READY,
    DRAINING
  }

  private volatile State state = State.STARTING;

  /** The current state. */
  public State state() {
    return state;
  }

  /** Marks the role ready, unless it is already draining. */
  public synchronized void ready() {
    if (state == State.STARTING) {
      state = State.READY;
    }
  }

  /** Marks the role draining; it never becomes ready again. */
  public synchronized void draining() {
    state = State.DRAINING;
  }

  /** Whether {@code /ready} should answer 200. */
  public boolean isReady() {
    return state == State.READY;
  }
}
