package com.foobar.core;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The process's one meter registry, in Prometheus format, with JVM and process meters bound. Every
 * meter carries a {@code node} tag so the monitor can tell processes apart.
 */
public final class Metrics implements AutoCloseable {
  /** Content type of {@link #scrape()}: the Prometheus text exposition format 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;
  private final Thread jvmBound;

  private Metrics(String node) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry
        .config()
        .commonTags("node", node)
        // keep `promtool check metrics` clean: no abbreviated units, no _count on a gauge
        .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count")
                    ? id.withName("system.cpu.logical")
                    : id;
              }
            });
    gc = new JvmGcMetrics();
    // the JVM meters pull in java.management; binding them off the start-up path keeps ~100 ms
    // out of the time to ready, and nothing reads them before the first scrape
    jvmBound = new Thread(this::bindJvmMeters, "bind-jvm-meters");
    jvmBound.setDaemon(true);
    jvmBound.start();
  }

  private void bindJvmMeters() {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /** A registry for this process, tagging every meter with {@code node}. */
  public static Metrics create(String node) {
    return new Metrics(node);
  }

  /** The registry that roles register their meters with. */
  public MeterRegistry registry() {
    return registry;
  }

  /** All meters in the Prometheus text format ({@link #CONTENT_TYPE}). */
  public String scrape() {
    try {
      jvmBound.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
