package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.StaticConfig.CacheControlRule;
import java.util.List;
import org.junit.jupiter.api.Test;

class CacheControlRulesTest {

  private final CacheControlRules defaults = new CacheControlRules(TestConfigs.DEFAULT_RULES);

  @Test
  void doubleStar_crossesSegments() {
    assertThat(defaults.forPath("/assets/css/site.css"))
        .hasValue("public, max-age=31536000, immutable");
    assertThat(defaults.forPath("/a/b.html")).hasValue("no-cache");
    assertThat(defaults.forPath("/robots.txt")).hasValue("public, max-age=3600");
  }

  @Test
  void firstMatchWins() {
    assertThat(defaults.forPath("/assets/page.html"))
        .hasValue("public, max-age=31536000, immutable");
  }

  @Test
  void singleStar_staysInSegment() {
    CacheControlRules rules =
        new CacheControlRules(List.of(new CacheControlRule("/img/*.png", "x")));
    assertThat(rules.forPath("/img/a.png")).hasValue("x");
    assertThat(rules.forPath("/img/sub/a.png")).isEmpty();
  }

  @Test
  void regexCharacters_areLiteral() {
    CacheControlRules rules =
        new CacheControlRules(List.of(new CacheControlRule("/a+b(1).txt", "x")));
    assertThat(rules.forPath("/a+b(1).txt")).hasValue("x");
    assertThat(rules.forPath("/aab1.txt")).isEmpty();
  }

  @Test
  void questionMark_matchesOneCharacter() {
    CacheControlRules rules = new CacheControlRules(List.of(new CacheControlRule("/v?.js", "x")));
    assertThat(rules.forPath("/v1.js")).hasValue("x");
    assertThat(rules.forPath("/v10.js")).isEmpty();
  }

  @Test
  void noRules_noValue() {
    assertThat(new CacheControlRules(List.of()).forPath("/x")).isEmpty();
  }
}
