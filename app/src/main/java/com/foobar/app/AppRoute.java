package com.foobar.app;

import com.foobar.app.spi.AppContext;

/**
 * One registered route.
 *
 * @param app the application's name
 * @param method the request method, upper case
 * @param template the path template, prefix included
 * @param handler what answers
 */
record AppRoute(String app, String method, RouteTemplate template, AppContext.Handler handler) {

  /** Whether this route answers {@code method}; a GET route answers HEAD too. */
  boolean answers(String requestMethod) {
    return method.equals(requestMethod) || (requestMethod.equals("HEAD") && method.equals("GET"));
  }
}
