package dev.warmroute.http;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags that turn the OpenAI-compatible front on, mixed into {@code warmroute router} and {@code warmroute worker}
 * (a mixin of their {@code RouterOptions} and {@code WorkerOptions}, so the server JVMs take them too): without
 * {@code --http-port} there is no HTTP server.
 */
public final class HttpFrontOptions {

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Serve OpenAI's HTTP API (/v1/chat/completions, /v1/models, /health, /metrics) on this port, "
                    + "translated to this server's ChatService; 0 = any free port (in the ready file). Off when absent.")
    public Integer httpPort;

    @Option(names = "--http-host", paramLabel = "HOST",
            description = "Bind address of the HTTP front (default: the gRPC server's --host).")
    public String httpHost;

    @Option(names = "--http-max-body-kb", defaultValue = "1024",
            description = "Largest request body of the HTTP front, KiB (default ${DEFAULT-VALUE}).")
    public int httpMaxBodyKb;

    @Option(names = "--http-turn-timeout-seconds", defaultValue = "600",
            description = "Deadline of one turn through the HTTP front (default ${DEFAULT-VALUE}).")
    public long httpTurnTimeoutSeconds;

    @Option(names = "--http-upstream-window-kb", defaultValue = "64",
            description = "Flow-control window of the front's gRPC channel, KiB: with the sockets' buffers, how far an "
                    + "answer runs ahead of an HTTP client that reads slowly (default ${DEFAULT-VALUE}).")
    public int httpUpstreamWindowKb;

    /** The front's config, or null when {@code --http-port} is absent; IllegalArgumentException names the flag. */
    public HttpFrontConfig toConfig(String serverHost) {
        if (httpPort == null) {
            return null;
        }
        return new HttpFrontConfig(httpHost == null || httpHost.isBlank() ? serverHost : httpHost, httpPort,
                httpMaxBodyKb * 1024L, Duration.ofSeconds(10), Duration.ofSeconds(httpTurnTimeoutSeconds),
                (int) Math.min(Integer.MAX_VALUE, httpUpstreamWindowKb * 1024L));
    }
}
