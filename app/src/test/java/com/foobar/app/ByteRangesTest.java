package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.app.ByteRanges.Range;
import org.junit.jupiter.api.Test;

class ByteRangesTest {

  @Test
  void single_closed() {
    assertThat(ByteRanges.parse("bytes=0-9", 100))
        .isEqualTo(new ByteRanges.Satisfiable(java.util.List.of(new Range(0, 9))));
  }

  @Test
  void openEnded_andSuffix() {
    assertThat(ByteRanges.parse("bytes=90-", 100))
        .isEqualTo(new ByteRanges.Satisfiable(java.util.List.of(new Range(90, 99))));
    assertThat(ByteRanges.parse("bytes=-10", 100))
        .isEqualTo(new ByteRanges.Satisfiable(java.util.List.of(new Range(90, 99))));
    assertThat(ByteRanges.parse("bytes=-500", 100))
        .isEqualTo(new ByteRanges.Satisfiable(java.util.List.of(new Range(0, 99))));
  }

  @Test
  void lastBeyondEnd_isClamped() {
    assertThat(ByteRanges.parse("bytes=50-5000", 100))
        .isEqualTo(new ByteRanges.Satisfiable(java.util.List.of(new Range(50, 99))));
  }

  @Test
  void several_keepOrder_dropUnsatisfiable() {
    assertThat(ByteRanges.parse("bytes=10-19, 0-0, 500-600", 100))
        .isEqualTo(
            new ByteRanges.Satisfiable(java.util.List.of(new Range(10, 19), new Range(0, 0))));
  }

  @Test
  void allBeyondEnd_isUnsatisfiable() {
    assertThat(ByteRanges.parse("bytes=100-", 100)).isInstanceOf(ByteRanges.Unsatisfiable.class);
    assertThat(ByteRanges.parse("bytes=-0", 100)).isInstanceOf(ByteRanges.Unsatisfiable.class);
    assertThat(ByteRanges.parse("bytes=0-", 0)).isInstanceOf(ByteRanges.Unsatisfiable.class);
  }

  @Test
  void malformed_isIgnored() {
    for (String header :
        new String[] {
          "bytes=",
          "bytes=a-b",
          "bytes=5-1",
          "bytes=1-2-3",
          "bytes=1",
          "lines=0-1",
          "bytes=0-1,",
          "bytes=99999999999999999999-"
        }) {
      assertThat(ByteRanges.parse(header, 100)).as(header).isInstanceOf(ByteRanges.Ignore.class);
    }
  }

  @Test
  void tooManyRanges_isIgnored() {
    String header = "bytes=" + "0-0,".repeat(ByteRanges.MAX_RANGES) + "0-0";
    assertThat(ByteRanges.parse(header, 100)).isInstanceOf(ByteRanges.Ignore.class);
  }
}
