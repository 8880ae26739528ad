package dev.warmroute.cli.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.testing.TestCluster;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAI-compatible front as users meet it (issue 15): a real cluster (a router and three workers, each its own
 * JVM, every one with its HTTP front) and clients we did not write — the {@code openai} npm client, {@code curl},
 * {@code @grpc/grpc-js} — then kill -9 of a session's worker between two calls and during a streamed answer.
 *
 * <p>The router keeps 1 KiB windows towards its workers and its front keeps a 1 KiB window towards the router, so a
 * client that stops reading holds the worker a bounded amount of answer ahead (the mid-stream kill needs the worker
 * still generating when it dies; the sockets' buffers are the rest of what can run ahead, well under the answer).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiFrontClusterTest {

    @TempDir
    static Path dir;

    private static TestCluster harness;
    private static LocalCluster cluster;
    private static String model;
    private static String http;
    private static ManagedChannel grpc;
    private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws Exception {
        // The fixtures' harness (TestModel.path(): no answer here is compared with the reference model's text).
        harness = TestCluster.start(dir, 3, b -> b.httpPort(0)
                .extraRouterArgs(List.of("--worker-window-kb", "1", "--http-upstream-window-kb", "1")));
        cluster = harness.local();
        model = cluster.modelId();
        http = cluster.router().httpAddress();
        grpc = NettyChannelBuilder.forTarget(cluster.target()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (grpc != null) {
            grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (harness != null) {
            harness.close();
        }
    }

    @Test
    @Order(1)
    void openaiClientStreamsContinuesWarmRunsStatelessAndGetsOurErrors() throws Exception {
        Path node = NodeScripts.folderOrSkip();
        List<JsonNode> steps;
        try (NodeScripts.Run run = new NodeScripts.Run(node, "openai-front.mjs", Map.of("WARMROUTE_HTTP", http,
                "WARMROUTE_MODEL", model, "WARMROUTE_SESSION", "oai-1"), List.of())) {
            steps = run.rest(Duration.ofSeconds(180));
        }
        JsonNode streamed = step(steps, "streamed");
        assertEquals("cold", streamed.at("/warmroute/cache").asText());
        JsonNode continued = step(steps, "continued");
        assertEquals("warm", continued.at("/warmroute/cache").asText(), continued.toString());
        assertEquals(streamed.at("/warmroute/worker").asText(), continued.at("/warmroute/worker").asText());
        // Warm: the cache held the whole first turn (its prompt and answer).
        assertEquals(streamed.at("/usage/total_tokens").asInt(),
                continued.at("/usage/prompt_tokens_details/cached_tokens").asInt(), continued.toString());
        assertEquals("warm", step(steps, "full-history").at("/warmroute/cache").asText());
        assertTrue(step(steps, "stateless").at("/warmroute/stateless").asBoolean());
        JsonNode bad = step(steps, "bad-temperature");
        assertEquals(400, bad.get("status").asInt());
        assertEquals("temperature: must be in [0, 2], got 5", bad.at("/error/message").asText());
        assertEquals("temperature", bad.at("/error/param").asText());
        JsonNode history = step(steps, "bad-history");
        assertEquals(400, history.get("status").asInt());
        assertTrue(history.at("/error/message").asText().startsWith("messages[0].content: differs from turn 0's "
                + "user message stored in session 'oai-1'"), history.toString());
        assertEquals(404, step(steps, "unknown-model").get("status").asInt());
        assertEquals(model, step(steps, "models").at("/ids/0").asText());

        // The stateless call left no session behind; the named one holds its three turns.
        Session stored = chat().getSession(GetSessionRequest.newBuilder().setSessionId("oai-1").build());
        assertEquals(3, stored.getTurnCount());
        assertEquals("You are a storyteller.", stored.getSystemPrompt());
    }

    @Test
    @Order(2)
    void curlStreamsAChatAndGetsOpenAisErrorObjectWithOurMessage() throws Exception {
        assumeTrue(NodeScripts.runs("curl", "--version"), "curl is not installed: the curl test is skipped");
        String body = "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":12,\"temperature\":0,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}";
        String sse = curl("-sS", "-N", http + "/v1/chat/completions", "-H", "content-type: application/json",
                "-H", "x-session-id: curl-1", "-d", body);
        List<String> data = sse.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.getLast(), sse);
        StringBuilder text = new StringBuilder();
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = NodeScripts.JSON.readTree(d);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            for (JsonNode c : chunk.get("choices")) {
                text.append(c.at("/delta/content").asText(""));
            }
        }
        assertTrue(text.length() > 0, sse);
        String again = curl("-sS", http + "/v1/chat/completions", "-H", "content-type: application/json",
                "-H", "x-session-id: curl-1", "-d", "{\"model\":\"" + model + "\",\"max_tokens\":4,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"And then?\"}]}");
        JsonNode second = NodeScripts.JSON.readTree(again);
        assertTrue(second.at("/usage/prompt_tokens_details/cached_tokens").asInt() > 0, again);

        // What an operator types: the metrics show the streamed turn's first token and its tokens.
        Map<String, Double> metrics = Scrape.samples(curl("-sS", http + "/metrics"));
        assertTrue(metrics.get("warmroute_http_time_to_first_token_seconds_count{stream=\"true\"}") >= 1, metrics
                .toString());
        assertTrue(metrics.get("warmroute_http_generation_tokens_total") > 0, metrics.toString());

        String error = curl("-sS", "-w", "\\n%{http_code}", http + "/v1/chat/completions",
                "-H", "content-type: application/json", "-d", "{\"model\":\"" + model + "\",\"messages\":"
                        + "[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":5000}");
        List<String> lines = error.lines().toList();
        assertEquals("400", lines.getLast(), error);
        JsonNode e = NodeScripts.JSON.readTree(lines.getFirst()).get("error");
        assertEquals("max_tokens: must be an integer in [1, 4096], got 5000", e.get("message").asText());
        assertEquals("invalid_request_error", e.get("type").asText());
        assertEquals("max_tokens", e.get("param").asText());
    }

    @Test
    @Order(3)
    void grpcJsClientSeesHealthReflectionAStreamedTurnAndStatusesOnRouterAndWorker() throws Exception {
        Path node = NodeScripts.folderOrSkip();
        Path proto = Path.of(System.getProperty("warmroute.project.dir", ".")).resolve("proto/src/main/proto");
        for (String target : List.of(cluster.target(), cluster.workers().getFirst().grpcAddress())) {
            List<JsonNode> steps;
            try (NodeScripts.Run run = new NodeScripts.Run(node, "grpc-client.mjs", Map.of("WARMROUTE_TARGET", target,
                    "WARMROUTE_PROTO", proto.toString(), "WARMROUTE_SESSION", "grpcjs-" + target.replace(':', '-')),
                    List.of())) {
                steps = run.rest(Duration.ofSeconds(120));
            }
            assertTrue(step(steps, "turn").get("text").asText().length() > 0);
            assertEquals("NOT_FOUND", step(steps, "not-found").get("code").asText());
            assertTrue(step(steps, "invalid").get("details").asText().startsWith("sampling.temperature:"));
        }
    }

    @Test
    @Order(4)
    void metricsShowTheTtftHistogramAndTokenCountersMovingDuringAChatLoad() throws Exception {
        Map<String, Double> before = Scrape.samples(get(http + "/metrics"));
        String worker = cluster.workers().getFirst().httpAddress();
        Map<String, Double> workerBefore = Scrape.samples(get(worker + "/metrics"));
        List<Thread> load = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String session = "load-" + i;
            load.add(Thread.ofVirtual().start(() -> {
                for (int t = 0; t < 3; t++) {
                    post(session, "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":16,\"messages\":"
                            + "[{\"role\":\"user\",\"content\":\"Turn " + t + "\"}]}");
                }
            }));
        }
        // Scraped while the load runs, and after.
        Map<String, Double> during = Scrape.samples(get(http + "/metrics"));
        for (Thread t : load) {
            t.join(Duration.ofSeconds(120));
        }
        Map<String, Double> after = Scrape.samples(get(http + "/metrics"));
        assertNotNull(during.get("warmroute_http_num_requests_running"));
        String ttft = "warmroute_http_time_to_first_token_seconds_count{stream=\"true\"}";
        assertEquals(before.get(ttft) + 9, after.get(ttft), 0.0, "9 streamed turns, 9 first tokens");
        for (String counter : List.of("warmroute_http_prompt_tokens_total", "warmroute_http_generation_tokens_total",
                "warmroute_http_prefix_cache_hits_total", "warmroute_http_inter_token_latency_seconds_count")) {
            assertTrue(after.get(counter) > before.getOrDefault(counter, 0.0), counter + ": " + before.get(counter)
                    + " -> " + after.get(counter));
        }
        // The workers count the same turns under vLLM's names too (the load went to all of them).
        double workersAfter = 0;
        double workersBefore = workerBefore.getOrDefault("warmroute_worker_generation_tokens_total", 0.0);
        for (LocalCluster.Node w : cluster.workers()) {
            workersAfter += Scrape.samples(get(w.httpAddress() + "/metrics"))
                    .getOrDefault("warmroute_worker_generation_tokens_total", 0.0);
        }
        assertTrue(workersAfter > workersBefore, "worker generation tokens " + workersBefore + " -> " + workersAfter);
    }

    @Test
    @Order(5)
    void everyDashboardPanelUsesAMetricTheServersExport() throws Exception {
        Path dashboard = Path.of(System.getProperty("warmroute.project.dir", "."))
                .resolve("deploy/grafana/warmroute.json");
        // What Prometheus would scrape: the router and every worker (each worker shows the outcomes it has had).
        List<String> scrapes = new ArrayList<>(List.of(get(http + "/metrics")));
        for (LocalCluster.Node w : cluster.workers()) {
            scrapes.add(get(w.httpAddress() + "/metrics"));
        }
        List<String> missing = Dashboard.missingMetrics(dashboard, scrapes);
        assertEquals(List.of(), missing, "dashboard expressions name metrics no server exports");
    }

    @Test
    @Order(6)
    void killingTheSessionsWorkerBetweenTwoCallsGivesOneCompleteAnswer() throws Exception {
        Path node = NodeScripts.folderOrSkip();
        Map<String, String> env = Map.of("WARMROUTE_HTTP", http, "WARMROUTE_MODEL", model, "WARMROUTE_SESSION",
                "between-1", "WARMROUTE_MAX_TOKENS", "32", "WARMROUTE_SEED", "7");
        JsonNode first = turn(node, env, "Once upon a time");
        String victim = first.get("worker").asText();
        cluster.kill(victim);
        JsonNode second = turn(node, env, "What happened next?");
        assertNotEquals(victim, second.at("/warmroute/worker").asText());
        assertTrue(second.at("/warmroute/fallback").asBoolean(), second.toString());
        assertEquals("cold", second.at("/warmroute/cache").asText(), second.toString());
        assertTrue(second.get("text").asText().length() > 0 && !second.get("finish").isNull(), second.toString());
        Session stored = chat().getSession(GetSessionRequest.newBuilder().setSessionId("between-1")
                .setIncludeMessages(true).build());
        assertEquals(2, stored.getTurnCount());
        assertEquals(second.get("text").asText(), stored.getMessages(3).getContent());
        // The session is warm again on its new worker.
        assertEquals("warm", turn(node, env, "And then?").at("/warmroute/cache").asText());
        // Three workers again: they run with --cluster-size 3, so the next test's kill must leave a majority (two) or
        // the survivor refuses every commit (a minority side of a split brain).
        harness.restart(victim);
        cluster.awaitSafe(Duration.ofSeconds(120));
    }

    @Test
    @Order(7)
    void killingTheSessionsWorkerDuringAStreamedAnswerGivesOneContinuousCompleteAnswer() throws Exception {
        Path node = NodeScripts.folderOrSkip();
        // A long answer (most of the context), so that the worker is still generating when it dies: the stalled
        // client holds it back through the windows and buffers, which hold far less than this.
        String session = null;
        String reference = null;
        int seed = 0;
        for (int s = 1; s <= 30 && session == null; s++) {
            String id = "mid-" + s;
            JsonNode done = NodeScripts.JSON.readTree(post(id, "{\"model\":\"" + model + "\",\"max_tokens\":1900,"
                    + "\"temperature\":1,\"seed\":" + s + ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a "
                    + "long story about a cat.\"}]}"));
            chat().deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
            if (done.at("/usage/completion_tokens").asInt() >= 1500) {
                session = id;
                reference = done.at("/choices/0/message/content").asText();
                seed = s;
            }
        }
        assertNotNull(session, "no seed in 1..30 gave an answer of 1500 tokens or more");
        Map<String, String> env = Map.of("WARMROUTE_HTTP", http, "WARMROUTE_MODEL", model, "WARMROUTE_SESSION",
                session, "WARMROUTE_MAX_TOKENS", "1900", "WARMROUTE_SEED", String.valueOf(seed));
        JsonNode result;
        String victim;
        try (NodeScripts.Run run = new NodeScripts.Run(node, "openai-turn.mjs", env,
                List.of("Tell me a long story about a cat.", "--stall-after", "3"))) {
            JsonNode stalled = run.next(Duration.ofSeconds(60));
            assertTrue(stalled.get("stalled").asBoolean(), stalled.toString());
            victim = stalled.get("worker").asText();
            cluster.kill(victim);
            run.answer("go");
            result = run.rest(Duration.ofSeconds(180)).getLast();
        }
        assertTrue(result.at("/warmroute/resumed").asBoolean(), "the answer was not interrupted: " + result);
        assertNotEquals(victim, result.at("/warmroute/worker").asText());
        assertEquals(reference, result.get("text").asText(), "the client saw the answer the dead worker would have "
                + "given, once, without a gap");
        Session stored = chat().getSession(GetSessionRequest.newBuilder().setSessionId(session)
                .setIncludeMessages(true).build());
        assertEquals(1, stored.getTurnCount());
        assertEquals(reference, stored.getMessages(1).getContent());
    }

    // --- helpers

    private static ChatServiceGrpc.ChatServiceBlockingStub chat() {
        return ChatServiceGrpc.newBlockingStub(grpc).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private static JsonNode step(List<JsonNode> steps, String name) {
        return steps.stream().filter(s -> name.equals(s.path("step").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no step " + name + " in " + steps));
    }

    private static JsonNode turn(Path node, Map<String, String> env, String message) throws Exception {
        try (NodeScripts.Run run = new NodeScripts.Run(node, "openai-turn.mjs", env, List.of(message))) {
            return run.rest(Duration.ofSeconds(120)).getLast();
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    private static String post(String session, String body) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(http + "/v1/chat/completions"))
                    .header("content-type", "application/json").header("x-session-id", session)
                    .timeout(Duration.ofSeconds(120)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return r.body();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String curl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "--max-time", "120"));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile("curl", ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(130, TimeUnit.SECONDS), "curl did not finish");
        assertEquals(0, p.exitValue(), "curl failed: " + Files.readString(err));
        Files.deleteIfExists(err);
        return out;
    }
}
