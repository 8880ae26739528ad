package dev.warmroute.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The front on its own, in front of a gRPC address where nothing listens: what it answers before and without the
 * ChatService (the cluster tests in cli cover the turns). Real Helidon server on port 0, real HTTP client.
 */
class HttpFrontTest {

    private static HttpFront front;
    private static ManagedChannel nowhere;
    private static String base;
    private static final HttpClient client = HttpClient.newHttpClient();
    private static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        nowhere = NettyChannelBuilder.forAddress("127.0.0.1", closedPort).usePlaintext().build();
        HttpFrontConfig config = new HttpFrontConfig("127.0.0.1", 0, 4096, Duration.ofSeconds(2),
                Duration.ofSeconds(5), 64 * 1024);
        front = HttpFront.start(config, nowhere, new PrometheusRegistry());
        base = "http://127.0.0.1:" + front.port();
    }

    @AfterAll
    static void stop() {
        front.close();
        nowhere.shutdownNow();
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void badBodiesGetOpenAisErrorObjectBeforeAnyCallUpstream() throws Exception {
        HttpResponse<String> r = post("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                + "\"temperature\":9}");
        assertEquals(400, r.statusCode());
        JsonNode error = json.readTree(r.body()).get("error");
        assertEquals("temperature: must be in [0, 2], got 9", error.get("message").asText());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("temperature", error.get("param").asText());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        assertEquals("invalid_json", json.readTree(post("not json").body()).at("/error/code").asText());
    }

    @Test
    void anUnreachableChatServiceIsA503WithTheReasonAndHealthSaysSo() throws Exception {
        HttpResponse<String> r = post("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("service_unavailable", json.readTree(r.body()).at("/error/type").asText());
        HttpResponse<String> health = get("/health");
        assertEquals(503, health.statusCode());
        assertEquals("UNREACHABLE", json.readTree(health.body()).get("status").asText());
    }

    @Test
    void unknownRoutesAreOpenAiErrorsAndMetricsAreServed() throws Exception {
        HttpResponse<String> r = get("/v1/completions");
        assertEquals(404, r.statusCode());
        assertEquals("unknown_url", json.readTree(r.body()).at("/error/code").asText());
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("warmroute_http_requests_total{endpoint=\"other\",status=\"404\"}"),
                metrics.body());
    }

    @Test
    void aBodyOverTheLimitIsRefused() throws Exception {
        String big = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(8000) + "\"}]}";
        HttpResponse<String> r = post(big);
        assertEquals(413, r.statusCode(), r.body());
        // An OpenAI error naming the field and the limit, as every other refusal (Helidon's own 413 is empty).
        JsonNode error = json.readTree(r.body()).path("error");
        assertEquals("body", error.path("param").asText(), r.body());
        assertEquals("request_too_large", error.path("code").asText(), r.body());
        assertTrue(error.path("message").asText().startsWith("body: larger than the limit of "), r.body());
        // And the front still serves (the refused connection is closed, not the server).
        assertEquals(404, get("/v1/completions").statusCode());
    }
}
