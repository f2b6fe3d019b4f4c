package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryListingTest {

  @TempDir Path dir;

  @Test
  void render_sortsEscapesAndHidesDotFiles() throws IOException {
    Files.writeString(dir.resolve("b.txt"), "");
    Files.writeString(dir.resolve("a&<x>.txt"), "");
    Files.writeString(dir.resolve(".hidden"), "");
    Files.createDirectories(dir.resolve("c"));

    String html = DirectoryListing.render(dir, "/files/<x>/");

    assertThat(html).contains("<title>Index of /files/&lt;x&gt;/</title>");
    assertThat(html).contains("<a href=\"a%26%3Cx%3E.txt\">a&amp;&lt;x&gt;.txt</a>");
    assertThat(html).doesNotContain(".hidden");
    assertThat(html.indexOf("a&amp;")).isLessThan(html.indexOf("b.txt"));
    assertThat(html).contains("<a href=\"c/\">c/</a>");
  }

  @Test
  void escape_allHtmlSpecials() {
    assertThat(DirectoryListing.escape("<a href='x'>\"&\"</a>"))
        .isEqualTo("&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
  }
}
