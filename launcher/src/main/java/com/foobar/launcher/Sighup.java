package com.foobar.launcher;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * Runs an action on SIGHUP instead of the JVM's default (shutting down). Uses {@code
 * sun.misc.Signal} by reflection: naming it in source makes javac warn about a proprietary API, and
 * that warning cannot be suppressed (the build treats warnings as errors).
 */
final class Sighup {
  private Sighup() {}

  /**
   * Makes {@code action} run on the JVM's signal thread at every SIGHUP, one at a time.
   *
   * @return false when this JVM cannot handle SIGHUP (no {@code sun.misc.Signal}, or signals
   *     reserved by {@code -Xrs}); SIGHUP then keeps its default effect
   */
  static boolean install(Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object signal = signalClass.getConstructor(String.class).newInstance("HUP");
      InvocationHandler onSignal =
          (proxy, method, args) ->
              switch (method.getName()) {
                case "handle" -> {
                  action.run();
                  yield null;
                }
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "SIGHUP handler";
              };
      Object handler =
          Proxy.newProxyInstance(
              Sighup.class.getClassLoader(), new Class<?>[] {handlerClass}, onSignal);
      signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
      return true;
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      return false;
    }
  }
}
