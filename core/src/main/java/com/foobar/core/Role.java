package com.foobar.core;

/** The roles one {@code foobar.jar} process can run; {@code --role=all} runs all of them. */
public enum Role {
  LB,
  BACKEND,
  MONITOR;

  /** The role's name on the command line and its section in {@code foobar.yml}: {@code lb}. */
  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
