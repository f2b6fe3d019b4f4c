package com.foobar.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {

  @Test
  void address_isHostAndPort_withoutUserInfo_defaultPort3306() {
    assertThat(JdbcUrls.address("jdbc:mysql://10.0.0.21:3307/foobar?useSSL=true"))
        .isEqualTo("10.0.0.21:3307");
    assertThat(JdbcUrls.address("jdbc:mysql://db1/foobar")).isEqualTo("db1:3306");
    assertThat(JdbcUrls.address("jdbc:mysql://app:s3cret@db1:3310/foobar")).isEqualTo("db1:3310");
    assertThat(JdbcUrls.address("jdbc:mysql://[::1]/foobar")).isEqualTo("[::1]:3306");
  }

  @Test
  void redacted_dropsPasswordAndQuery() {
    assertThat(JdbcUrls.redacted("jdbc:mysql://app:s3cret@db1:3310/foobar?password=s3cret"))
        .isEqualTo("jdbc:mysql://db1:3310/foobar");
  }

  @Test
  void check_refusesAnotherScheme_namingTheKey() {
    assertThatThrownBy(() -> JdbcUrls.check("database.primary", "jdbc:postgresql://db1/foobar"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "database.primary must be a jdbc:mysql://host:port/database URL, got"
                + " jdbc:postgresql://...");
  }

  @Test
  void missingDefaults_leavesWhatTheUrlSets() {
    assertThat(JdbcUrls.missingDefaults("jdbc:mysql://db1/foobar")).isEqualTo(JdbcUrls.DEFAULTS);
    assertThat(JdbcUrls.missingDefaults("jdbc:mysql://db1/foobar?SocketTimeout=0&useSSL=false"))
        .doesNotContainKey("socketTimeout")
        .containsEntry("connectTimeout", "2000")
        .containsEntry("cachePrepStmts", "true");
  }
}
