package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.foobar.app.spi.HttpError;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinkRulesTest {

  @Test
  void checkUrl_acceptsHttpAndHttps() {
    assertThat(LinkRules.checkUrl("https://example.com/a?b=c#d"))
        .isEqualTo("https://example.com/a?b=c#d");
    assertThat(LinkRules.checkUrl("HTTP://EXAMPLE.COM")).isEqualTo("HTTP://EXAMPLE.COM");
  }

  @Test
  void checkUrl_refusesOtherSchemes_missingHost_andJunk() {
    for (String bad :
        new String[] {
          "ftp://example.com/x",
          "javascript:alert(1)",
          "https:///path",
          "not a url",
          "/relative",
          ""
        }) {
      assertThatThrownBy(() -> LinkRules.checkUrl(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              HttpError.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.error()).isEqualTo("invalid_url");
              });
    }
  }

  @Test
  void checkUrl_2048CharactersIsTheLimit() {
    String base = "https://example.com/";
    String longest = base + "a".repeat(2048 - base.length());

    assertThat(LinkRules.checkUrl(longest)).hasSize(2048);
    assertThatThrownBy(() -> LinkRules.checkUrl(longest + "a"))
        .isInstanceOf(HttpError.class)
        .hasMessageContaining("2049 characters");
  }

  @Test
  void checkCode_allowsLettersDigitsDashUnderscore_3to32() {
    assertThat(LinkRules.checkCode("a_B-9")).isEqualTo("a_B-9");
    assertThat(LinkRules.checkCode("x".repeat(32))).hasSize(32);
    for (String bad : new String[] {"ab", "x".repeat(33), "a b", "a/b", "ünï", "a.b"}) {
      assertThatThrownBy(() -> LinkRules.checkCode(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              HttpError.class, e -> assertThat(e.error()).isEqualTo("invalid_code"));
    }
  }

  @Test
  void randomCode_hasTheLength_andOnlyLettersAndDigits() {
    assertThat(LinkRules.randomCode(new Random(1), 7)).matches("[A-Za-z0-9]{7}");
  }
}
