package com.foobar.lb;

import java.net.http.HttpClient;

/**
 * Every behaviour of {@link LoadBalancerTest} again over HTTP/1.1, which the {@link H1Relay} serves
 * (handing to Undertow's chain what it does not serve itself).
 */
class LoadBalancerHttp1Test extends LoadBalancerTest {
  @Override
  HttpClient.Version version() {
    return HttpClient.Version.HTTP_1_1;
  }
}
