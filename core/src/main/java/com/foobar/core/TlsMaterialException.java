package com.foobar.core;

/**
 * A certificate, key or CA file cannot be used. The message names the configuration key (or CLI
 * option), the file and the problem, e.g. {@code lb.tls.key: /etc/foobar/privkey.pem holds no
 * private key}; the launcher prints it and exits with code 2.
 */
public final class TlsMaterialException extends RuntimeException {
  TlsMaterialException(String message) {
    super(message);
  }

  TlsMaterialException(String message, Throwable cause) {
    super(message, cause);
  }
}
