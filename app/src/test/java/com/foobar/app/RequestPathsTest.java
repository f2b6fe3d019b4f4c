package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestPathsTest {

  @Test
  void ordinaryPaths_areSafe() {
    for (String path :
        new String[] {"", "/", "/a.txt", "/a/b/", "/..a", "/a..", "/.well-known/x", "/%41"}) {
      assertThat(RequestPaths.isSafe(path)).as(path).isTrue();
    }
  }

  @Test
  void dotSegments_areUnsafe() {
    for (String path : new String[] {"/..", "/../x", "/a/../b", "/a/..", "/.", "/./a", "/a/./"}) {
      assertThat(RequestPaths.isSafe(path)).as(path).isFalse();
    }
  }

  @Test
  void controlCharactersAndBackslash_areUnsafe() {
    for (String path : new String[] {"/a\0b", "/a\nb", "/a\\..\\b", "/\u007f"}) {
      assertThat(RequestPaths.isSafe(path)).as(path).isFalse();
    }
  }

  @Test
  void leftoverEncodedSeparatorsOrDots_areUnsafe() {
    for (String path : new String[] {"/a%2fb", "/a%2Fb", "/%5c", "/%2e%2e/x", "/%2E"}) {
      assertThat(RequestPaths.isSafe(path)).as(path).isFalse();
    }
  }

  @Test
  void relativePath_isUnsafe() {
    assertThat(RequestPaths.isSafe("a.txt")).isFalse();
  }
}
