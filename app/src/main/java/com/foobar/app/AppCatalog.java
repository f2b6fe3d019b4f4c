package com.foobar.app;

import com.foobar.app.spi.App;
import com.foobar.core.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * The applications a backend can run: the built-in ones (listed in {@code
 * META-INF/services/com.foobar.app.spi.App} on the app module's class path) and those in every
 * {@code *.jar} of {@code backend.plugins}, loaded by one {@link URLClassLoader} whose parent is
 * the app module's loader. Names are unique: two applications with one name stop start-up with a
 * configuration error naming where each came from. {@link #close} closes the plugin class loader.
 */
final class AppCatalog implements AutoCloseable {
  private final Map<String, App> byName;
  private final Optional<URLClassLoader> plugins;

  private AppCatalog(Map<String, App> byName, Optional<URLClassLoader> plugins) {
    this.byName = byName;
    this.plugins = plugins;
  }

  /**
   * Finds the applications.
   *
   * @param pluginDir {@code backend.plugins}; a missing directory means no plugins
   * @throws ConfigException when two applications share a name
   * @throws java.util.ServiceConfigurationError when a listed class cannot be loaded or created
   */
  static AppCatalog load(Path pluginDir, ClassLoader builtIn) {
    Optional<URLClassLoader> plugins = pluginLoader(pluginDir, builtIn);
    ClassLoader loader = plugins.isPresent() ? plugins.get() : builtIn;
    Map<String, App> byName = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    try {
      for (App app : ServiceLoader.load(App.class, loader)) {
        App other = byName.putIfAbsent(app.name(), app);
        if (other != null) {
          problems.add(
              "backend.plugins: app name '"
                  + app.name()
                  + "' is provided by both "
                  + origin(other, plugins)
                  + " and "
                  + origin(app, plugins));
        }
      }
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
    } catch (RuntimeException | Error e) {
      if (plugins.isPresent()) {
        try {
          plugins.get().close();
        } catch (IOException c) {
          e.addSuppressed(c);
        }
      }
      throw e;
    }
    return new AppCatalog(byName, plugins);
  }

  private static Optional<URLClassLoader> pluginLoader(Path dir, ClassLoader parent) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    List<URL> jars = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path jar :
          files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
        jars.add(jar.toUri().toURL());
      }
    } catch (MalformedURLException e) {
      throw new IllegalStateException("backend.plugins: cannot name a jar in " + dir, e);
    } catch (IOException e) {
      throw new UncheckedIOException("backend.plugins: cannot list " + dir, e);
    }
    if (jars.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new URLClassLoader("foobar-plugins", jars.toArray(new URL[0]), parent));
  }

  /** The jar an application came from, e.g. {@code /srv/plugins/hello.jar}, or built-in. */
  private static String origin(App app, Optional<URLClassLoader> plugins) {
    CodeSource source = app.getClass().getProtectionDomain().getCodeSource();
    boolean plugin = plugins.isPresent() && app.getClass().getClassLoader() == plugins.get();
    if (!plugin || source == null || source.getLocation() == null) {
      return "built-in " + app.getClass().getName();
    }
    return source.getLocation().getPath();
  }

  /** The application called {@code name}. */
  Optional<App> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** Every application's name, in discovery order. */
  List<String> names() {
    return List.copyOf(byName.keySet());
  }

  @Override
  public void close() {
    if (plugins.isPresent()) {
      try {
        plugins.get().close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close the plugin class loader", e);
      }
    }
  }
}
