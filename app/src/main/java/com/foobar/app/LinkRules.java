package com.foobar.app;

import com.foobar.app.spi.HttpError;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;

/** What the {@code links} app accepts as a URL and as a code, and how it makes codes. */
final class LinkRules {
  static final int MAX_URL_LENGTH = 2048;
  private static final Pattern CODE = Pattern.compile("[A-Za-z0-9_-]{3,32}");
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private LinkRules() {}

  /**
   * {@code url} when it is an absolute http or https URL with a host, at most 2048 characters.
   *
   * @throws HttpError 400 {@code invalid_url} otherwise
   */
  static String checkUrl(String url) {
    if (url == null || url.isBlank()) {
      throw invalidUrl("a url is required");
    }
    if (url.length() > MAX_URL_LENGTH) {
      throw invalidUrl(
          "the url has "
              + url.length()
              + " characters; at most "
              + MAX_URL_LENGTH
              + " are allowed");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw invalidUrl("not a valid URL: " + e.getReason() + " at index " + e.getIndex());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw invalidUrl("only http and https URLs can be shortened, got scheme '" + scheme + "'");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalidUrl("the url has no host");
    }
    return url;
  }

  /**
   * {@code code} when it matches {@code [A-Za-z0-9_-]{3,32}}.
   *
   * @throws HttpError 400 {@code invalid_code} otherwise
   */
  static String checkCode(String code) {
    if (!CODE.matcher(code).matches()) {
      throw new HttpError(
          400, "invalid_code", "a code is 3 to 32 of A-Z a-z 0-9 _ -, got '" + code + "'");
    }
    return code;
  }

  /** A random code of {@code length} letters and digits. */
  static String randomCode(Random random, int length) {
    StringBuilder code = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      code.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return code.toString();
  }

  private static HttpError invalidUrl(String detail) {
    return new HttpError(400, "invalid_url", detail);
  }
}
