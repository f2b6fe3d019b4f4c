package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** h2load (Debian's nghttp2-client, which scripts/test.sh installs) as a test's HTTP/2 client. */
public final class H2Load {
  private H2Load() {}

  /**
   * Sends {@code requests} GETs to {@code url} over 4 connections of 10 streams each, and asserts
   * that ALPN chose h2 and that every response came whole (h2load checks the frames and decodes
   * each header block) with a 2xx status.
   */
  public static void assertEveryRequestSucceeds(String url, int requests) throws Exception {
    Process p =
        new ProcessBuilder("h2load", "-n", Integer.toString(requests), "-c", "4", "-m", "10", url)
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    int n = requests;
    assertThat(out).contains("Application protocol: h2");
    assertThat(out)
        .contains(n + " total, " + n + " started, " + n + " done, " + n + " succeeded, 0 failed");
    assertThat(out).contains("status codes: " + n + " 2xx");
  }
}
