package com.foobar.core;

import java.time.Duration;

/**
 * Limits and timeouts of one HTTP listener. Every value must be greater than zero.
 *
 * @param maxUriLength longest request target accepted; longer gets 414
 * @param maxHeaderSize total bytes of all request header lines; more gets 431
 * @param maxHeaders number of request header fields; more gets 431
 * @param requestHeaderTimeout time allowed to send the request line and headers (slowloris)
 * @param idleTimeout a keep-alive connection with no request for this long is closed
 * @param maxBodySize largest request body accepted by application and proxied routes; more gets 413
 */
public record HttpLimits(
    DataSize maxUriLength,
    DataSize maxHeaderSize,
    int maxHeaders,
    Duration requestHeaderTimeout,
    Duration idleTimeout,
    DataSize maxBodySize) {}
