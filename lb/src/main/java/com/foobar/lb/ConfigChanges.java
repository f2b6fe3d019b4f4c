package com.foobar.lb;

import com.foobar.core.DataSize;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** The YAML keys whose values differ between two configuration records of one type. */
final class ConfigChanges {
  private ConfigChanges() {}

  /**
   * The changed keys under {@code prefix}, e.g. {@code lb.backends} or {@code
   * lb.limits.idle-timeout}: a component that is itself a record is compared key by key, anything
   * else (and a {@link DataSize}, one value in YAML such as {@code 10MiB}) as a whole.
   */
  static List<String> between(String prefix, Record before, Record after) {
    List<String> changed = new ArrayList<>();
    collect(prefix, before, after, changed);
    return changed;
  }

  private static void collect(String prefix, Record before, Record after, List<String> changed) {
    for (RecordComponent c : before.getClass().getRecordComponents()) {
      Object a = value(c, before);
      Object b = value(c, after);
      String key = prefix + "." + kebab(c.getName());
      if (a instanceof Record ra
          && b instanceof Record rb
          && a.getClass() == b.getClass()
          && !(a instanceof DataSize)) {
        collect(key, ra, rb, changed);
      } else if (!Objects.equals(a, b)) {
        changed.add(key);
      }
    }
  }

  private static Object value(RecordComponent c, Record r) {
    try {
      return c.getAccessor().invoke(r);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass(), e);
    }
  }

  private static String kebab(String camel) {
    return camel.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
  }
}
