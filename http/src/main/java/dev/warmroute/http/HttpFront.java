package dev.warmroute.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse;
import io.helidon.common.SerializationConfig;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.ToIntFunction;
import dev.warmroute.cluster.ServiceProcess;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP front: {@code POST /v1/chat/completions} (SSE or JSON), {@code GET /v1/models},
 * {@code GET /health} and {@code GET /metrics} (the process's Prometheus registry), on Helidon SE's web server.
 *
 * <p>It is a translator in front of a ChatService reached over gRPC, nothing more: the router starts one beside its
 * gRPC server, and so does a single worker, each pointing it at itself over loopback ({@link #attachBeside}). So one
 * implementation serves both, the router's placement, failover and resume apply to HTTP turns unchanged, and the
 * front knows nothing of the engine or of Hazelcast.
 */
public final class HttpFront implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpFront.class);

    private final WebServer server;
    private final PendingChannel upstream;
    private volatile ManagedChannel ownedChannel;

    private final HttpFrontConfig config;

    private HttpFront(WebServer server, PendingChannel upstream, HttpFrontConfig config) {
        this.server = server;
        this.upstream = upstream;
        this.config = config;
    }

    /** Starts the front translating to the ChatService behind {@code upstream} (tests; a channel of one's own). */
    public static HttpFront start(HttpFrontConfig config, Channel upstream, PrometheusRegistry registry) {
        HttpFront front = bind(config, registry);
        front.upstream.attach(upstream);
        return front;
    }

    /**
     * Starts listening; turns wait for {@link #attachBeside} (bounded by the unary timeout). The router and the worker
     * bind first so that the HTTP port can go into their ready file, which is written once they serve.
     */
    public static HttpFront bind(HttpFrontConfig config, PrometheusRegistry registry) {
        keepTheJvmsDeserializationPolicy();
        PendingChannel upstream = new PendingChannel(config.unaryTimeout());
        ObjectMapper json = new ObjectMapper();
        Upstream up = new Upstream(upstream, config.unaryTimeout(), config.turnTimeout());
        ModelCatalog catalog = new ModelCatalog(up);
        FrontMetrics metrics = new FrontMetrics(registry);
        CompletionJson out = new CompletionJson(json);
        ChatCompletions completions = new ChatCompletions(up, catalog, json, metrics);
        ExpositionFormatWriter text = ExpositionFormats.init().getPrometheusTextFormatWriter();
        HttpRouting.Builder routing = HttpRouting.builder()
                .post("/v1/chat/completions", completions)
                .get("/v1/models", (req, res) -> models(req, res, catalog, out, json, metrics))
                .get("/v1/models/{id}", (req, res) -> models(req, res, catalog, out, json, metrics))
                .get("/health", (req, res) -> health(res, up, json, metrics))
                .get("/metrics", (req, res) -> metrics(res, registry, text, metrics))
                .any((req, res) -> {
                    int status = sendError(res, out, new OpenAiError(404, "invalid_request_error", null,
                            "unknown_url", "no route " + req.prologue().method().text() + " " + req.path().path()
                                    + " (this server answers POST /v1/chat/completions, GET /v1/models, /health, "
                                    + "/metrics)"));
                    metrics.answered("other", status);
                });
        WebServer server = WebServer.builder().host(config.host()).port(config.port())
                .maxPayloadSize(config.maxBodyBytes()).shutdownGracePeriod(Duration.ofSeconds(5))
                // TCP_NODELAY: a stream is many small writes, each flushed; with Nagle's algorithm each waits for the
                // client's delayed ACK of the one before (tens of milliseconds a token).
                .connectionOptions(o -> o.socketSendBufferSize(HttpFrontConfig.SOCKET_SEND_BUFFER_BYTES)
                        .tcpNoDelay(true))
                .directHandlers(d -> d.addHandler(DirectHandler.EventType.BAD_REQUEST,
                        tooLarge(out, config.maxBodyBytes())))
                .routing(routing).build().start();
        log.info("http.started address={}:{} max_body_bytes={}", config.host(), server.port(),
                config.maxBodyBytes());
        return new HttpFront(server, upstream, config);
    }

    /**
     * Connects the front to the gRPC server of this process at {@code grpcHost:grpcPort} (a wildcard bind address is
     * reached at 127.0.0.1) over a loopback channel that the front owns and closes.
     */
    public void attachBeside(String grpcHost, int grpcPort) {
        attachBeside(grpcHost, grpcPort, io.grpc.InsecureChannelCredentials.create());
    }

    /** {@link #attachBeside(String, int)} over TLS when the server speaks it ({@code credentials}). */
    public void attachBeside(String grpcHost, int grpcPort, io.grpc.ChannelCredentials credentials) {
        String host = grpcHost.equals("0.0.0.0") || grpcHost.equals("::") ? "127.0.0.1" : grpcHost;
        // A fixed window (no BDP auto-tuning): back-pressure from a slow HTTP client reaches the worker after a
        // bounded amount of answer. On loopback a small window costs no throughput.
        // No gRPC retry layer either: the router retries turns itself, and a worker is its own only server.
        ManagedChannel channel = NettyChannelBuilder.forAddress(host, grpcPort, credentials)
                .flowControlWindow(config.upstreamWindowBytes()).disableRetry().build();
        ownedChannel = channel;
        upstream.attach(channel);
        log.info("http.attached port={} upstream={}:{}", server.port(), host, grpcPort);
    }

    /** What the server's ready file says of the front. */
    public Map<String, Object> readyValues() {
        return Map.of("http_port", server.port());
    }

    /**
     * The server with this front in front of it, for {@link ServiceProcess#serve}: a graceful stop stops the server
     * first (it refuses new turns, which HTTP clients see as 503, and lets running ones finish, HTTP ones included),
     * then the front.
     */
    public ServiceProcess.Server inFrontOf(ServiceProcess.Server behind) {
        HttpFront front = this;
        return new ServiceProcess.Server() {
            @Override
            public void close() {
                try {
                    behind.close();
                } finally {
                    front.close();
                }
            }

            @Override
            public void awaitTermination() throws InterruptedException {
                behind.awaitTermination();
            }
        };
    }

    /** Starts a gRPC server of this process; {@code readyExtras} go into its ready file. */
    @FunctionalInterface
    public interface ServerStart<S extends ServiceProcess.Server> {
        S start(Map<String, ?> readyExtras) throws Exception;
    }

    /** A started server, and what {@link ServiceProcess#serve} should run: the server with its front, if any. */
    public record Started<S extends ServiceProcess.Server>(S server, ServiceProcess.Server served) {}

    /**
     * Starts a router or worker with, when {@code http} is not null, this front beside it: the front binds first (its
     * port goes into the server's ready file), then the server starts, then the front attaches to the server's gRPC
     * port over loopback. A server that fails to start closes the front.
     */
    public static <S extends ServiceProcess.Server> Started<S> startWith(HttpFrontConfig http,
            PrometheusRegistry registry, String grpcHost, ToIntFunction<S> grpcPort, ServerStart<S> start)
            throws Exception {
        if (http == null) {
            S server = start.start(Map.of());
            return new Started<>(server, server);
        }
        HttpFront front = bind(http, registry);
        S server;
        try {
            server = start.start(front.readyValues());
        } catch (Exception | Error e) {
            front.close();
            throw e;
        }
        front.attachBeside(grpcHost, grpcPort.applyAsInt(server), server.loopbackCredentials());
        return new Started<>(server, front.inFrontOf(server));
    }

    /**
     * Helidon's web server, on start, installs a JVM-wide deserialization filter that rejects every class unless told
     * otherwise ({@code SerializationConfig}, "missing action" CONFIGURE). The front runs inside a Hazelcast member or
     * client, whose members exchange Java-serialized objects (exceptions in operation responses, for one): under that
     * filter a worker joining a cluster fails. The front does no Java deserialization of its own, so it leaves the
     * process's policy as the process set it.
     */
    private static void keepTheJvmsDeserializationPolicy() {
        SerializationConfig.builder().onNoConfig(SerializationConfig.Action.IGNORE).build().configure();
    }

    /** The bound HTTP port. */
    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
        ManagedChannel ownedChannel = this.ownedChannel;
        if (ownedChannel != null) {
            ownedChannel.shutdown();
            try {
                ownedChannel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ownedChannel.shutdownNow();
        }
        log.info("http.stopped port={}", server.port());
    }

    private static void models(ServerRequest req, ServerResponse res, ModelCatalog catalog, CompletionJson out,
            ObjectMapper json, FrontMetrics metrics) {
        int status;
        try {
            long created = System.currentTimeMillis() / 1000;
            ObjectNode body;
            if (req.path().pathParameters().contains("id")) {
                body = out.model(catalog.require(req.path().pathParameters().get("id")), created);
            } else {
                body = out.models(catalog.models(), created);
            }
            status = sendJson(res, 200, json, body);
        } catch (OpenAiError e) {
            status = sendError(res, out, e);
        } catch (StatusRuntimeException e) {
            status = sendError(res, out, OpenAiError.fromStatus(e));
        }
        metrics.answered("models", status);
    }

    /** 200 while the ChatService behind the front is SERVING, 503 otherwise (for load balancers and probes). */
    private static void health(ServerResponse res, Upstream up, ObjectMapper json, FrontMetrics metrics) {
        ObjectNode body = json.createObjectNode();
        int status;
        try {
            HealthCheckResponse.ServingStatus s = up.health();
            body.put("status", s.name());
            status = s == HealthCheckResponse.ServingStatus.SERVING ? 200 : 503;
        } catch (StatusRuntimeException e) {
            body.put("status", "UNREACHABLE");
            body.put("detail", e.getStatus().getCode() + ": " + e.getStatus().getDescription());
            status = 503;
        }
        metrics.answered("health", sendJson(res, status, json, body));
    }

    private static void metrics(ServerResponse res, PrometheusRegistry registry, ExpositionFormatWriter text,
            FrontMetrics metrics) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(16 * 1024);
        text.write(buffer, registry.scrape());
        res.header(HeaderNames.CONTENT_TYPE, text.getContentType());
        res.send(buffer.toByteArray());
        metrics.answered("metrics", 200);
    }

    /**
     * A body over the limit is refused by Helidon before any handler runs (a BAD_REQUEST event with status 413), with
     * an empty body; this answers it as every other refusal is answered, an OpenAI error naming the field and the
     * limit. Other malformed HTTP keeps Helidon's own answer.
     */
    private static DirectHandler tooLarge(CompletionJson out, long maxBodyBytes) {
        OpenAiError e = new OpenAiError(413, "invalid_request_error", "body", "request_too_large", "body: larger "
                + "than the limit of " + maxBodyBytes + " bytes (http-max-body-kb); send shorter messages");
        byte[] json = out.error(e).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        DirectHandler helidons = DirectHandler.defaultHandler();
        return (request, type, status, headers, message) -> status.code() != 413
                ? helidons.handle(request, type, status, headers, message)
                : DirectHandler.TransportResponse.builder().status(status).headers(headers)
                        .header(HeaderNames.CONTENT_TYPE, "application/json").entity(json).keepAlive(false).build();
    }

    static int sendError(ServerResponse res, CompletionJson out, OpenAiError e) {
        if (res.isSent()) {
            return e.httpStatus();
        }
        res.status(e.httpStatus());
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        if (e.retryAfter() != null) {
            res.header(HeaderNames.RETRY_AFTER, e.retryAfter());
        }
        res.send(out.error(e).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return e.httpStatus();
    }

    private static int sendJson(ServerResponse res, int status, ObjectMapper json, ObjectNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return status;
    }

}
