package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConditionalsTest {

  private static final String ETAG = "\"65e1c3c0-d\"";
  private static final String DATE = "Fri, 01 Mar 2024 12:00:00 GMT";
  private static final long MILLIS = 1_709_294_400_000L;

  @Test
  void noneMatch_exactEtag_hits() {
    assertThat(Conditionals.noneMatchHits(ETAG, ETAG)).isTrue();
  }

  @Test
  void noneMatch_weakPrefix_hits() {
    assertThat(Conditionals.noneMatchHits("W/" + ETAG, ETAG)).isTrue();
  }

  @Test
  void noneMatch_listWithSpaces_hits() {
    assertThat(Conditionals.noneMatchHits("\"a\" ,  " + ETAG + ", \"b\"", ETAG)).isTrue();
  }

  @Test
  void noneMatch_star_hits() {
    assertThat(Conditionals.noneMatchHits(" * ", ETAG)).isTrue();
  }

  @Test
  void noneMatch_otherOrPrefix_misses() {
    assertThat(Conditionals.noneMatchHits("\"65e1c3c0-d0\"", ETAG)).isFalse();
    assertThat(Conditionals.noneMatchHits("65e1c3c0-d", ETAG)).isFalse();
    assertThat(Conditionals.noneMatchHits("", ETAG)).isFalse();
  }

  @Test
  void noneMatch_commaInsideQuotes_isPartOfTag() {
    assertThat(Conditionals.noneMatchHits("\"x," + ETAG.substring(1), ETAG)).isFalse();
  }

  @Test
  void modifiedSince_sameOrLater_notModified() {
    assertThat(Conditionals.notModifiedSince(DATE, DATE, MILLIS + 999)).isTrue();
    assertThat(Conditionals.notModifiedSince("Fri, 01 Mar 2024 12:00:01 GMT", DATE, MILLIS))
        .isTrue();
  }

  @Test
  void modifiedSince_earlierOrGarbage_modified() {
    assertThat(Conditionals.notModifiedSince("Fri, 01 Mar 2024 11:59:59 GMT", DATE, MILLIS))
        .isFalse();
    assertThat(Conditionals.notModifiedSince("not a date", DATE, MILLIS)).isFalse();
  }

  @Test
  void ifRange_strongEtagOrExactDate_holds() {
    assertThat(Conditionals.ifRangeHolds(ETAG, ETAG, DATE)).isTrue();
    assertThat(Conditionals.ifRangeHolds(DATE, ETAG, DATE)).isTrue();
  }

  @Test
  void ifRange_weakEtagOtherEtagOrOtherDate_fails() {
    assertThat(Conditionals.ifRangeHolds("W/" + ETAG, ETAG, DATE)).isFalse();
    assertThat(Conditionals.ifRangeHolds("\"x\"", ETAG, DATE)).isFalse();
    assertThat(Conditionals.ifRangeHolds("Fri, 01 Mar 2024 12:00:01 GMT", ETAG, DATE)).isFalse();
  }

  @Test
  void matchHolds_strongComparisonOnly() {
    assertThat(Conditionals.matchHolds(ETAG, ETAG)).isTrue();
    assertThat(Conditionals.matchHolds("*", ETAG)).isTrue();
    assertThat(Conditionals.matchHolds("\"a\", " + ETAG, ETAG)).isTrue();
    assertThat(Conditionals.matchHolds("W/" + ETAG, ETAG)).isFalse();
    assertThat(Conditionals.matchHolds("\"a\"", ETAG)).isFalse();
  }

  @Test
  void unmodifiedSince_comparesSeconds_ignoresGarbage() {
    assertThat(Conditionals.unmodifiedSince(DATE, MILLIS)).isTrue();
    assertThat(Conditionals.unmodifiedSince(DATE, MILLIS + 999)).isTrue();
    assertThat(Conditionals.unmodifiedSince(DATE, MILLIS + 1000)).isFalse();
    assertThat(Conditionals.unmodifiedSince("not a date", MILLIS)).isTrue();
  }
}
