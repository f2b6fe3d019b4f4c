package com.foobar.app;

import static com.foobar.app.AcceptEncoding.BR;
import static com.foobar.app.AcceptEncoding.GZIP;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AcceptEncodingTest {

  @Test
  void browserList_allowsBoth() {
    assertThat(AcceptEncoding.allowed("gzip, deflate, br, zstd")).isEqualTo(BR | GZIP);
  }

  @Test
  void qZero_refusesCoding() {
    assertThat(AcceptEncoding.allowed("br;q=0, gzip")).isEqualTo(GZIP);
    assertThat(AcceptEncoding.allowed("gzip;q=0.000,br")).isEqualTo(BR);
    assertThat(AcceptEncoding.allowed("gzip ; q=0")).isZero();
  }

  @Test
  void qPositive_allowsCoding() {
    assertThat(AcceptEncoding.allowed("br;q=0.001")).isEqualTo(BR);
    assertThat(AcceptEncoding.allowed("GZIP;Q=0.5")).isEqualTo(GZIP);
  }

  @Test
  void star_allowsUnlistedCodings() {
    assertThat(AcceptEncoding.allowed("*")).isEqualTo(BR | GZIP);
    assertThat(AcceptEncoding.allowed("br;q=0, *")).isEqualTo(GZIP);
    assertThat(AcceptEncoding.allowed("*;q=0")).isZero();
  }

  @Test
  void identityOrEmpty_allowsNone() {
    assertThat(AcceptEncoding.allowed("identity")).isZero();
    assertThat(AcceptEncoding.allowed("")).isZero();
  }

  @Test
  void xGzip_isGzip() {
    assertThat(AcceptEncoding.allowed("x-gzip")).isEqualTo(GZIP);
  }

  @Test
  void tokenPrefix_isNotAMatch() {
    assertThat(AcceptEncoding.allowed("brotli, gzipx")).isZero();
  }
}
