package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void ipv4_parsed() {
    assertThat(HostPort.parse("127.0.0.1:8081")).isEqualTo(new HostPort("127.0.0.1", 8081));
  }

  @Test
  void hostName_parsed() {
    assertThat(HostPort.parse("localhost:0")).isEqualTo(new HostPort("localhost", 0));
  }

  @Test
  void ipv6_inBrackets_parsedAndPrinted() {
    HostPort address = HostPort.parse("[::1]:9102");

    assertThat(address).isEqualTo(new HostPort("::1", 9102));
    assertThat(address.toString()).isEqualTo("[::1]:9102");
    assertThat(address.url("https")).isEqualTo("https://[::1]:9102");
  }

  @Test
  void toString_roundTrips() {
    for (String text : new String[] {"0.0.0.0:8443", "[2001:db8::1]:443", "db1:3306"}) {
      assertThat(HostPort.parse(text).toString()).isEqualTo(text);
    }
  }

  @Test
  void portOutOfRange_rejected() {
    assertThatThrownBy(() -> HostPort.parse("127.0.0.1:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range 0-65535");
    assertThatThrownBy(() -> new HostPort("h", -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void badInputs_rejected() {
    assertThatThrownBy(() -> HostPort.parse("8080")).hasMessageContaining("expected host:port");
    assertThatThrownBy(() -> HostPort.parse("::1:8080")).hasMessageContaining("expected host:port");
    assertThatThrownBy(() -> HostPort.parse("[::1]8080")).hasMessage("expected [ipv6]:port");
    assertThatThrownBy(() -> HostPort.parse("host:http"))
        .hasMessage("port must be a number 0-65535");
    assertThatThrownBy(() -> HostPort.parse(":8080")).hasMessage("host must not be empty");
  }
}
