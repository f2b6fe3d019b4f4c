package com.foobar.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Configures logback in code, found through {@code ServiceLoader}: one {@link JsonLogLayout} line
 * per event on stdout, root at INFO, the chatty libraries at WARN, Undertow's proxy failures as one
 * line each ({@link ProxyFailureFilter}). Doing it in code rather than in {@code logback.xml} keeps
 * the XML parser out of start-up.
 *
 * <p>Libraries that log through {@code java.util.logging} (wildfly-openssl, the JDK's HTTP client)
 * go through the same JSON lines instead of JUL's two-line text on stderr: JUL's root handlers are
 * replaced by SLF4J's bridge, and logback's levels are copied to JUL so that a disabled level costs
 * JUL nothing.
 */
public final class LogbackConfigurator extends ContextAwareBase implements Configurator {
  @Override
  public ExecutionStatus configure(LoggerContext context) {
    JsonLogLayout layout = new JsonLogLayout();
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
    stdout.setContext(context);
    stdout.setName("stdout");
    stdout.setEncoder(encoder);
    stdout.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(stdout);
    for (String chatty : new String[] {"org.xnio", "io.undertow", "org.jboss"}) {
      context.getLogger(chatty).setLevel(Level.WARN);
    }
    ProxyFailureFilter proxyFailures = new ProxyFailureFilter();
    proxyFailures.setContext(context);
    proxyFailures.start();
    context.addTurboFilter(proxyFailures);
    LevelChangePropagator levels = new LevelChangePropagator();
    levels.setContext(context);
    levels.setResetJUL(true);
    levels.start();
    context.addListener(levels);
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
