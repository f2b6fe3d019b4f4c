package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The links page in a real browser (Debian's headless chromium through chromedriver) against the
 * real jar in role {@code all} with no configuration: create a short link, follow it, and read its
 * statistics (clicks are flushed every second by default).
 */
class LinksPageIT {
  @TempDir Path dir;
  private JarProcess jar;
  private WebDriver browser;
  private String base;

  @BeforeEach
  void start() throws Exception {
    // role all with no config: the README's first command, on the embedded database
    jar = JarProcess.start(dir);
    jar.awaitReady("http://127.0.0.1:9101/ready", Duration.ofSeconds(30));
    JarProcess.awaitBackendsUp("http://127.0.0.1:9101/stats?format=json", 2);
    // through the lb, over HTTP/2 with its self-signed certificate
    base = "https://localhost:8443";

    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--ignore-certificate-errors",
        "--user-data-dir=" + dir.resolve("chromium"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File("/usr/bin/chromedriver"))
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (jar != null) {
      jar.close();
    }
  }

  /** The lb's self-signed certificate is the test's to accept. */
  private static javax.net.ssl.SSLContext trustAll() throws Exception {
    javax.net.ssl.TrustManager trustAll =
        new javax.net.ssl.X509TrustManager() {
          @Override
          public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {}

          @Override
          public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {}

          @Override
          public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
          }
        };
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, new javax.net.ssl.TrustManager[] {trustAll}, null);
    return context;
  }

  @Test
  void page_createsALink_thatRedirects_andShowsItsClicks() throws Exception {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
    browser.get(base + "/links.html");
    browser.findElement(By.id("url")).sendKeys("https://example.org/from-the-page");
    browser.findElement(By.id("code")).sendKeys("page-1");
    browser.findElement(By.cssSelector("#shorten button[type=submit]")).click();

    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("short")));
    String shortUrl = browser.findElement(By.id("short")).getDomProperty("href");
    assertThat(shortUrl).isEqualTo(base + "/r/page-1");

    HttpResponse<Void> followed =
        HttpClient.newBuilder()
            .sslContext(trustAll())
            .build()
            .send(
                HttpRequest.newBuilder(URI.create(shortUrl)).build(),
                HttpResponse.BodyHandlers.discarding());
    assertThat(followed.statusCode()).isEqualTo(302);
    assertThat(followed.headers().firstValue("location"))
        .contains("https://example.org/from-the-page");

    // the stats API adds clicks not yet flushed, so the page sees the click at once
    wait.until(
        d -> {
          d.findElement(By.id("refresh")).click();
          return d.findElement(By.id("stats-clicks")).getText().equals("1");
        });
    assertThat(browser.findElement(By.id("stats-url")).getText())
        .isEqualTo("https://example.org/from-the-page");
  }

  @Test
  void page_showsTheServersError_forATakenCode() {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
    for (int i = 0; i < 2; i++) {
      browser.get(base + "/links.html");
      browser.findElement(By.id("url")).sendKeys("https://example.org/" + i);
      browser.findElement(By.id("code")).sendKeys("dup");
      browser.findElement(By.cssSelector("#shorten button[type=submit]")).click();
      if (i == 0) {
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("short")));
      }
    }
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
    assertThat(browser.findElement(By.id("error")).getText())
        .isEqualTo("the code 'dup' is already taken");
    assertThat(browser.findElement(By.id("result")).isDisplayed()).isFalse();
  }
}
