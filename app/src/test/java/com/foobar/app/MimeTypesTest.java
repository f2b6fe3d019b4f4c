package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MimeTypesTest {

  private final MimeTypes bundled = MimeTypes.bundled();

  @Test
  void bundled_textTypesCarryCharset() {
    assertThat(bundled.forFileName("index.html")).isEqualTo("text/html; charset=utf-8");
    assertThat(bundled.forFileName("site.css")).isEqualTo("text/css; charset=utf-8");
    assertThat(bundled.forFileName("site.js")).isEqualTo("application/javascript; charset=utf-8");
    assertThat(bundled.forFileName("robots.txt")).isEqualTo("text/plain; charset=utf-8");
  }

  @Test
  void bundled_commonBinaryTypes() {
    assertThat(bundled.forFileName("favicon.svg")).isEqualTo("image/svg+xml");
    assertThat(bundled.forFileName("a.PNG")).isEqualTo("image/png");
    assertThat(bundled.forFileName("f.woff2")).isEqualTo("font/woff2");
    assertThat(bundled.forFileName("x.wasm")).isEqualTo("application/wasm");
    assertThat(bundled.forFileName("doc.docx"))
        .isEqualTo("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assertThat(bundled.size()).isGreaterThan(100);
  }

  @Test
  void unknownOrNoExtension_isOctetStream() {
    assertThat(bundled.forFileName("Makefile")).isEqualTo(MimeTypes.DEFAULT_TYPE);
    assertThat(bundled.forFileName("file.")).isEqualTo(MimeTypes.DEFAULT_TYPE);
    assertThat(bundled.forFileName("x.nosuchext")).isEqualTo(MimeTypes.DEFAULT_TYPE);
  }

  @Test
  void parse_nginxFormatWithCommentsAndQuotes() {
    MimeTypes types =
        MimeTypes.parse(
            "# comment\ntypes {\n  text/x-a  a aa; # trailing\n  \"text/b; charset=utf-8\" b;\n}\n");
    assertThat(types.forFileName("f.aa")).isEqualTo("text/x-a");
    assertThat(types.forFileName("f.b")).isEqualTo("text/b; charset=utf-8");
  }

  @Test
  void parse_missingSemicolon_fails() {
    assertThatThrownBy(() -> MimeTypes.parse("types { text/a a }"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("text/a");
  }
}
