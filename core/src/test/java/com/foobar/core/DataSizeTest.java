package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DataSizeTest {
  @Test
  void binaryUnits_parsed() {
    assertThat(DataSize.parse("64KiB").bytes()).isEqualTo(64L << 10);
    assertThat(DataSize.parse("1MiB").bytes()).isEqualTo(1L << 20);
    assertThat(DataSize.parse("2GiB").bytes()).isEqualTo(2L << 30);
    assertThat(DataSize.parse("8k").bytes()).isEqualTo(8192);
  }

  @Test
  void decimalUnits_parsed() {
    assertThat(DataSize.parse("10KB").bytes()).isEqualTo(10_000);
    assertThat(DataSize.parse("5MB").bytes()).isEqualTo(5_000_000);
    assertThat(DataSize.parse("1GB").bytes()).isEqualTo(1_000_000_000);
  }

  @Test
  void bareNumber_isBytes() {
    assertThat(DataSize.parse("512").bytes()).isEqualTo(512);
    assertThat(DataSize.parse("512B").bytes()).isEqualTo(512);
    assertThat(DataSize.parse("0").bytes()).isZero();
  }

  @Test
  void toString_usesLargestExactBinaryUnit_andRoundTrips() {
    assertThat(new DataSize(64L << 20)).hasToString("64MiB");
    assertThat(new DataSize(1536)).hasToString("1536B");
    assertThat(new DataSize(0)).hasToString("0B");
    assertThat(DataSize.parse(DataSize.parse("10KB").toString())).isEqualTo(DataSize.parse("10KB"));
  }

  @Test
  void badInputs_rejected() {
    assertThatThrownBy(() -> DataSize.parse("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected a size");
    assertThatThrownBy(() -> DataSize.parse("-1KiB")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DataSize.parse("5TB")).hasMessageContaining("unknown size unit 'TB'");
    assertThatThrownBy(() -> new DataSize(-1)).hasMessage("size must not be negative");
  }

  @Test
  void intBytes_overflow_rejected() {
    assertThatThrownBy(() -> DataSize.parse("4GiB").intBytes())
        .isInstanceOf(ArithmeticException.class);
  }
}
