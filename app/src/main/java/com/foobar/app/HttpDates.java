package com.foobar.app;

import io.undertow.util.DateUtils;
import java.util.Date;

/** IMF-fixdate rendering for {@code Last-Modified}; used when an entry is built, never per hit. */
final class HttpDates {

  private HttpDates() {}

  static String format(long epochMillis) {
    return DateUtils.toDateString(new Date(epochMillis / 1000 * 1000));
  }
}
