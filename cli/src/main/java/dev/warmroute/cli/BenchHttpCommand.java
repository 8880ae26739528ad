package dev.warmroute.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.BenchRouterCommand.Stats;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cluster.ServerMain;
import dev.warmroute.cluster.launch.JvmLauncher;
import dev.warmroute.engine.ModelLocator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the OpenAI-compatible front costs on a warm turn: one worker and one router (with its HTTP front) in their
 * own JVMs on 127.0.0.1; warm sessions take turns alternately over gRPC and over HTTP (streamed, SSE) to the same
 * router, the order alternating per round so drift hits both alike, and the client measures the time to the first
 * token. The worker's own TTFT is subtracted from each, so what is compared is the time outside the worker (client,
 * network, router, and for HTTP the front: JSON, the loopback gRPC hop, SSE framing).
 */
@Command(name = "http", description = {
        "Added latency of the OpenAI-compatible HTTP front on warm turns: streamed chat completions (SSE) vs gRPC",
        "SendMessage, both through the same router, same run. Starts one worker and one router (with --http-port)",
        "as separate JVMs. Prints a table, or JSON with --json."})
final class BenchHttpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model for the worker (default: the reference model).")
    Path model;

    @Option(names = "--sessions", defaultValue = "4", description = "Warm sessions each way (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--rounds", defaultValue = "25",
            description = "Rounds; each session takes one turn per round (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup", defaultValue = "40",
            description = "Warm-up rounds before measuring, so the per-call paths of all JVMs are JIT-compiled "
                    + "(default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--max-tokens", defaultValue = "8", description = "Tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--threads", defaultValue = "0", description = "Worker compute threads; 0 = all cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** One measured turn: client TTFT and whole turn, the worker's TTFT, and whether it was warm. */
    record Turn(double ttftMs, double totalMs, double workerTtftMs, boolean warm) {}

    @Override
    public Integer call() throws Exception {
        if (sessions < 1 || rounds < 2 || warmup < 1 || maxTokens < 1) {
            throw new UserError("--sessions >= 1, --rounds >= 2, --warmup >= 1, --max-tokens >= 1");
        }
        Path modelFile = model != null ? model : ModelLocator.referenceModel(System.getenv());
        if (!Files.isRegularFile(modelFile)) {
            throw new UserError("model: " + modelFile + " is not a file (--model, or put the reference model in "
                    + "../shared/models/)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = Files.createTempDirectory("warmroute-bench-http");
        String cluster = "bench-http-" + ProcessHandle.current().pid();
        String parent = String.valueOf(ProcessHandle.current().pid());
        err.println("bench http: starting a worker and a router with its HTTP front (logs in " + dir + ") ...");
        try (JvmLauncher.ChildProcess worker = JvmLauncher.start("worker", ServerMain.class.getName(), List.of(
                "worker", "--worker-id", "bench-worker", "--port", "0", "--hazelcast-port", "0", "--cluster-name", cluster,
                "--model", modelFile.toString(), "--threads", String.valueOf(threads), "--kv-cache-mb", "1024",
                "--ready-file", dir.resolve("worker.ready").toString(), "--parent-pid", parent), List.of(), Map.of(),
                dir.resolve("worker.log"))) {
            Map<String, String> w = worker.awaitReady(dir.resolve("worker.ready"), Duration.ofSeconds(180));
            try (JvmLauncher.ChildProcess router = JvmLauncher.start("router", ServerMain.class.getName(), List.of(
                    "router", "--router-id", "bench-router", "--port", "0", "--http-port", "0", "--cluster-name", cluster,
                    "--members", "127.0.0.1:" + w.get("hazelcast_port"), "--ready-file",
                    dir.resolve("router.ready").toString(), "--parent-pid", parent), List.of(), Map.of(),
                    dir.resolve("router.log"))) {
                Map<String, String> r = router.awaitReady(dir.resolve("router.ready"), Duration.ofSeconds(180));
                try (ChatClient grpc = new ChatClient(r.get("address"), "bench")) {
                    report(measure(grpc, "http://127.0.0.1:" + r.get("http_port"), w.get("model_id"), err),
                            w.get("model_id"), out);
                }
            } finally {
                err.println("bench http: stopping");
            }
        }
        return 0;
    }

    private List<List<Turn>> measure(ChatClient grpc, String base, String modelId, PrintWriter err)
            throws Exception {
        Duration deadline = Duration.ofSeconds(120);
        SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(maxTokens).build();
        String prefix = "bench-" + ProcessHandle.current().pid();
        for (int i = 0; i < sessions; i++) {
            // The router may need a moment to see the worker's health after its ready file: retry the first call.
            for (int attempt = 0; ; attempt++) {
                try {
                    grpc.ensureSession(prefix + "-g" + i, "", SessionSettings.newBuilder().setSampling(sampling)
                            .build(), deadline);
                    break;
                } catch (io.grpc.StatusRuntimeException e) {
                    if (attempt > 100) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        }
        int turn = 0;
        for (int k = 0; k < warmup; k++) {
            for (int i = 0; i < sessions; i++) {
                grpcTurn(grpc, prefix + "-g" + i, question(turn), sampling, deadline);
                httpTurn(base, modelId, prefix + "-h" + i, question(turn));
                turn++;
            }
        }
        List<Turn> viaGrpc = new ArrayList<>();
        List<Turn> viaHttp = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < sessions; i++) {
                boolean httpFirst = (round + i) % 2 == 0;
                for (int leg = 0; leg < 2; leg++) {
                    if ((leg == 0) == httpFirst) {
                        viaHttp.add(httpTurn(base, modelId, prefix + "-h" + i, question(turn)));
                    } else {
                        viaGrpc.add(grpcTurn(grpc, prefix + "-g" + i, question(turn), sampling, deadline));
                    }
                }
                turn++;
            }
            if ((round + 1) % 5 == 0) {
                err.printf(Locale.ROOT, "bench http: round %d/%d%n", round + 1, rounds);
            }
        }
        return List.of(viaGrpc, viaHttp);
    }

    private static Turn grpcTurn(ChatClient grpc, String session, String text, SamplingParams sampling,
            Duration deadline) {
        long t0 = System.nanoTime();
        ChatClient.TurnResult t = grpc.send(ChatClient.message(session, null, text, sampling), d -> { }, deadline);
        double total = (System.nanoTime() - t0) / 1e6;
        return new Turn(t.firstDeltaMs(), total, t.complete().getTimings().getTtftMs(),
                t.complete().getCache().getStatus() == CacheStatus.CACHE_STATUS_WARM);
    }

    /** One streamed chat completion; TTFT is the first chunk with answer text, as an OpenAI client sees it. */
    private Turn httpTurn(String base, String modelId, String session, String text)
            throws IOException, InterruptedException {
        String body = mapper.createObjectNode().put("model", modelId).put("stream", true).put("temperature", 0)
                .put("max_tokens", maxTokens).set("messages", mapper.createArrayNode().add(mapper.createObjectNode()
                        .put("role", "user").put("content", text))).toString();
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("content-type", "application/json").header("x-session-id", session)
                .timeout(Duration.ofSeconds(120)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        double ttft = -1;
        JsonNode last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode() + ": " + in.readLine());
            }
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                JsonNode chunk = mapper.readTree(line.substring(6));
                if (ttft < 0 && !chunk.at("/choices/0/delta/content").asText("").isEmpty()) {
                    ttft = (System.nanoTime() - t0) / 1e6;
                }
                if (chunk.has("warmroute")) {
                    last = chunk.get("warmroute");
                }
            }
        }
        double total = (System.nanoTime() - t0) / 1e6;
        if (last == null) {
            throw new IOException("the stream ended without its final chunk");
        }
        return new Turn(ttft < 0 ? total : ttft, total, last.get("worker_ttft_ms").asDouble(),
                "warm".equals(last.get("cache").asText()));
    }

    private void report(List<List<Turn>> both, String modelId, PrintWriter out) {
        List<Turn> g = both.get(0).stream().filter(Turn::warm).toList();
        List<Turn> h = both.get(1).stream().filter(Turn::warm).toList();
        int notWarm = both.get(0).size() - g.size() + both.get(1).size() - h.size();
        Stats gTtft = Stats.of(g.stream().map(Turn::ttftMs).toList());
        Stats hTtft = Stats.of(h.stream().map(Turn::ttftMs).toList());
        Stats gTotal = Stats.of(g.stream().map(Turn::totalMs).toList());
        Stats hTotal = Stats.of(h.stream().map(Turn::totalMs).toList());
        Stats gOutside = Stats.of(g.stream().map(t -> t.ttftMs() - t.workerTtftMs()).toList());
        Stats hOutside = Stats.of(h.stream().map(t -> t.ttftMs() - t.workerTtftMs()).toList());
        Stats gWorker = Stats.of(g.stream().map(Turn::workerTtftMs).toList());
        Stats hWorker = Stats.of(h.stream().map(Turn::workerTtftMs).toList());
        double added = hOutside.p50() - gOutside.p50();
        String machine = Runtime.getRuntime().availableProcessors() + " cores, java " + Runtime.version();
        if (json) {
            out.println(Json.object().put("model", modelId).put("machine", machine).put("sessions", sessions)
                    .put("rounds", rounds).put("warmup_rounds", warmup).put("max_tokens", maxTokens)
                    .put("ttft_grpc_p50_ms", gTtft.p50()).put("ttft_http_p50_ms", hTtft.p50())
                    .put("ttft_grpc_p90_ms", gTtft.p90()).put("ttft_http_p90_ms", hTtft.p90())
                    .put("total_grpc_p50_ms", gTotal.p50()).put("total_http_p50_ms", hTotal.p50())
                    .put("worker_ttft_grpc_p50_ms", gWorker.p50()).put("worker_ttft_http_p50_ms", hWorker.p50())
                    .put("outside_worker_grpc_p50_ms", gOutside.p50()).put("outside_worker_http_p50_ms", hOutside.p50())
                    .put("added_ms_p50", added).put("added_pct_of_ttft", 100 * added / gTtft.p50())
                    .put("not_warm_turns", notWarm));
            return;
        }
        out.printf(Locale.ROOT, "model %s; %d sessions each way x %d rounds after %d warm-up rounds, %d tokens per "
                + "answer; %s%n", modelId, sessions, rounds, warmup, maxTokens, machine);
        out.printf(Locale.ROOT, "%-34s %10s %10s %10s%n", "warm turn via the router", "gRPC", "HTTP (SSE)", "added");
        row(out, "time to first token p50 (ms)", gTtft.p50(), hTtft.p50());
        row(out, "time to first token p90 (ms)", gTtft.p90(), hTtft.p90());
        row(out, "whole turn p50 (ms)", gTotal.p50(), hTotal.p50());
        row(out, "worker-measured TTFT p50 (ms)", gWorker.p50(), hWorker.p50());
        row(out, "TTFT outside the worker p50 (ms)", gOutside.p50(), hOutside.p50());
        out.printf(Locale.ROOT, "added latency of the HTTP front (TTFT outside the worker, HTTP - gRPC): %.3f ms = "
                + "%.1f%% of gRPC TTFT; %d turns not warm left out%n", added, 100 * added / gTtft.p50(), notWarm);
    }

    private static void row(PrintWriter out, String name, double grpc, double http) {
        out.printf(Locale.ROOT, "%-34s %10.3f %10.3f %+10.3f%n", name, grpc, http, http - grpc);
    }

    /** The router benchmark's questions, so the two benchmarks' turns are alike. */
    private static String question(int i) {
        return BenchRouterCommand.question(i);
    }
}
