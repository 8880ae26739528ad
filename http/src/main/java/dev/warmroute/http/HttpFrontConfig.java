package dev.warmroute.http;

import dev.warmroute.cluster.ConfigChecks;
import java.time.Duration;

/**
 * The OpenAI-compatible front's settings, validated once.
 *
 * @param host          bind address of the HTTP server
 * @param port          HTTP port (0 = any free port; the bound one is {@link HttpFront#port()} and in the ready file)
 * @param maxBodyBytes  largest request body accepted (413 beyond)
 * @param unaryTimeout  deadline of the session calls (create, read, delete) and of the model lookup
 * @param turnTimeout   deadline of one turn (the whole answer)
 * @param upstreamWindowBytes HTTP/2 flow-control window of the front's gRPC channel: with the socket's send buffer
 *                      ({@link #SOCKET_SEND_BUFFER_BYTES}) and the client's receive buffer, how far an answer can run
 *                      ahead of an HTTP client that reads slowly before the turn waits for it
 */
public record HttpFrontConfig(String host, int port, long maxBodyBytes, Duration unaryTimeout, Duration turnTimeout,
        int upstreamWindowBytes) {

    /**
     * Send buffer of each HTTP connection. Set, not left to the kernel's autotuning (up to 4 MiB on Linux), so that a
     * stalled client holds the turn back after a bounded amount of answer.
     */
    public static final int SOCKET_SEND_BUFFER_BYTES = 64 * 1024;

    public HttpFrontConfig {
        ConfigChecks.requireHost(host);
        ConfigChecks.requirePort(port, "http-port");
        if (maxBodyBytes < 1024 || maxBodyBytes > 64L * 1024 * 1024) {
            throw new IllegalArgumentException("http-max-body-kb: must be in [1, 65536] KiB, got " + maxBodyBytes
                    + " bytes");
        }
        ConfigChecks.requirePositive(unaryTimeout, "http unary timeout");
        ConfigChecks.requirePositive(turnTimeout, "http-turn-timeout-seconds");
        if (upstreamWindowBytes < 1024 || upstreamWindowBytes > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("http-upstream-window-kb: must be in [1, 16384] KiB, got "
                    + upstreamWindowBytes + " bytes");
        }
    }

    /** 1 MiB bodies (conversations of 32 KiB messages), 10 s session calls, 10 min turns, a 64 KiB window. */
    public static HttpFrontConfig of(String host, int port) {
        return new HttpFrontConfig(host, port, 1024 * 1024, Duration.ofSeconds(10), Duration.ofMinutes(10),
                64 * 1024);
    }
}
