package com.foobar.lb;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids for {@code X-Request-Id}: random version-4 UUIDs from the thread's own generator.
 * They only need to be unique, not unguessable, and {@link UUID#randomUUID} would take the lock of
 * the process's {@code SecureRandom} for every request.
 */
final class RequestIds {
  private RequestIds() {}

  static String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }
}
