package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.foobar.replication.Database;
import com.foobar.replication.DatabaseException;
import com.foobar.replication.Databases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Click counting on the real embedded database. */
class ClickBufferTest {
  @TempDir Path dir;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Database db;
  private LinkStore store;

  @BeforeEach
  void open() {
    db = Databases.embedded(dir, registry);
    db.migrate("links", "classpath:db/links", getClass().getClassLoader());
    store = new LinkStore(db, Clock.systemUTC());
    assertThat(store.insert("abc", "https://example.com/")).isTrue();
  }

  @AfterEach
  void close() {
    db.close();
  }

  private ClickBuffer buffer() {
    // an hour: only explicit flushes and close() write in these tests
    return new ClickBuffer(store, Duration.ofHours(1), LoggerFactory.getLogger("test"), registry);
  }

  @Test
  void clicks_areWrittenInOneBatch_onFlush() {
    ClickBuffer clicks = buffer();
    for (int i = 0; i < 3; i++) {
      clicks.count("abc");
    }
    assertThat(clicks.pending("abc")).isEqualTo(3);
    assertThat(store.find("abc").orElseThrow().clicks()).isZero();

    clicks.flush();

    assertThat(clicks.pending("abc")).isZero();
    assertThat(store.find("abc").orElseThrow().clicks()).isEqualTo(3);
    clicks.close();
  }

  @Test
  void close_flushesWhatIsLeft() {
    ClickBuffer clicks = buffer();
    clicks.count("abc");
    clicks.count("abc");

    clicks.close();

    assertThat(store.find("abc").orElseThrow().clicks()).isEqualTo(2);
  }

  @Test
  void failedFlush_keepsTheClicks_forTheNextOne() {
    ClickBuffer clicks = buffer();
    clicks.count("abc");
    db.write(tx -> tx.update("ALTER TABLE links RENAME TO links_away"));

    assertThatThrownBy(clicks::flush).isInstanceOf(DatabaseException.class);
    assertThat(clicks.pending("abc")).isEqualTo(1);

    db.write(tx -> tx.update("ALTER TABLE links_away RENAME TO links"));
    clicks.flush();
    assertThat(store.find("abc").orElseThrow().clicks()).isEqualTo(1);
    clicks.close();
  }

  @Test
  void concurrentClicks_whileFlushing_areNeverLost() throws InterruptedException {
    ClickBuffer clicks = buffer();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < 5_000; i++) {
                  clicks.count("abc");
                }
              });
      thread.start();
      threads.add(thread);
    }
    for (int i = 0; i < 20; i++) {
      clicks.flush();
    }
    for (Thread t : threads) {
      t.join();
    }
    clicks.close();

    assertThat(store.find("abc").orElseThrow().clicks()).isEqualTo(20_000);
  }
}
