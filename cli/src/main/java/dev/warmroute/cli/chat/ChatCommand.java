package dev.warmroute.cli.chat;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.Json;
import dev.warmroute.cli.UserError;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * With {@code --message}: one turn from the command line: creates the session if it does not exist, sends the
 * message, prints the answer as it streams (or one JSON object with --json). A failed turn prints "STATUS: message"
 * on stderr and exits 1. Without it: an interactive chat ({@link InteractiveChat}) reading lines from stdin.
 */
@Command(name = "chat", description = {
        "Chat with a router (or a worker). Without --message: interactive; each answer streams as it comes, then",
        "one line says which worker served it, warm/partial/cold and why, tokens reused/computed and the time to",
        "first token. /new, /history, /session ID, /help, /quit. Reads piped stdin too (one message per line).",
        "With --message: one turn (the session is created if absent), then exit; --json prints one object."})
public final class ChatCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--target", defaultValue = "127.0.0.1:7000", paramLabel = "HOST:PORT",
            description = "Router (the default is the router's default address) or a worker to talk to (default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--session", paramLabel = "ID",
            description = "Session id (created if absent); required with --message, generated when interactive.")
    String session;

    @Option(names = "--message", paramLabel = "TEXT", description = "The user message (one turn, then exit).")
    String message;

    @Option(names = "--system", defaultValue = "", paramLabel = "TEXT",
            description = "System prompt, used when the session is created.")
    String system;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Most tokens in the answer (1..4096).")
    Integer maxTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (0..2; 0 = greedy).")
    Float temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass (0..1].")
    Float topP;

    @Option(names = "--seed", paramLabel = "S", description = "Sampler seed (same seed, same answer).")
    Long seed;

    @Option(names = "--request-id", defaultValue = "", paramLabel = "R",
            description = "Idempotency key: resending it replays a committed turn (default: generated).")
    String requestId;

    @Option(names = "--owner", defaultValue = "", description = "Caller identity (x-warmroute-owner).")
    String owner;

    @Option(names = "--deadline-ms", defaultValue = "120000", description = "Deadline of each call (default ${DEFAULT-VALUE}).")
    long deadlineMs;

    @Option(names = "--json", description = "Print one JSON object with the answer and what happened.")
    boolean json;

    @Override
    public Integer call() {
        if (deadlineMs < 1) {
            throw new UserError("--deadline-ms: must be positive, got " + deadlineMs);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SamplingParams.Builder sampling = SamplingParams.newBuilder();
        if (maxTokens != null) {
            sampling.setMaxTokens(maxTokens);
        }
        if (temperature != null) {
            sampling.setTemperature(temperature);
        }
        if (topP != null) {
            sampling.setTopP(topP);
        }
        if (seed != null) {
            sampling.setSeed(seed);
        }
        Duration deadline = Duration.ofMillis(deadlineMs);
        if (message == null) {
            if (json) {
                throw new UserError("--json: only with --message (one turn)");
            }
            return interactive(out, err, sampling.build(), deadline);
        }
        if (session == null || session.isBlank()) {
            throw new UserError("--session: required with --message");
        }
        var request = ChatClient.message(session, requestId, message, sampling.build());
        try (ChatClient client = new ChatClient(target, owner)) {
            client.ensureSession(session, system, SessionSettings.newBuilder().setSampling(sampling).build(), deadline);
            ChatClient.TurnResult r = client.send(request, d -> {
                if (!json) {
                    out.print(d.getText());
                    out.flush();
                }
            }, deadline);
            TurnComplete c = r.complete();
            if (json) {
                String fallback = r.trailer("x-warmroute-fallback");
                out.println(Json.object().put("session", session).put("request_id", c.getRequestId())
                        .put("text", c.getText()).put("worker", c.getWorkerId())
                        .put("cache", lower(c.getCache().getStatus().name(), "CACHE_STATUS_"))
                        .put("reason", lower(c.getCache().getReason().name(), "CACHE_REASON_"))
                        .put("detail", c.getCache().getDetail())
                        .put("prompt_tokens", c.getUsage().getPromptTokens())
                        .put("reused_tokens", c.getUsage().getReusedTokens())
                        .put("computed_tokens", c.getUsage().getComputedTokens())
                        .put("generated_tokens", c.getUsage().getGeneratedTokens())
                        .put("finish", lower(c.getFinishReason().name(), "FINISH_REASON_"))
                        .put("version", c.getVersion()).put("replayed", c.getReplayed())
                        .put("fallback", c.getRouting().getFallback() || "true".equals(fallback))
                        .put("window_start", c.getWindow().getWindowStart()).put("pruned", c.getWindow().getPruned())
                        .put("ttft_ms", c.getTimings().getTtftMs()).put("total_ms", c.getTimings().getTotalMs())
                        .put("timings", Json.object().put("queue_ms", c.getTimings().getQueueMs())
                                .put("prepare_ms", c.getTimings().getPrepareMs())
                                .put("prefill_ms", c.getTimings().getPrefillMs())
                                .put("decode_ms", c.getTimings().getDecodeMs())
                                .put("commit_ms", c.getTimings().getCommitMs())));
            } else {
                out.println();
            }
            return 0;
        } catch (StatusRuntimeException e) {
            out.flush();
            err.println(dev.warmroute.cluster.tls.ClientTls.describe(e.getStatus()));
            return 1;
        }
    }

    private int interactive(PrintWriter out, PrintWriter err, SamplingParams sampling, Duration deadline) {
        java.io.Console console = System.console();
        boolean terminal = console != null && console.isTerminal();
        boolean colour = terminal && System.getenv("NO_COLOR") == null && !"dumb".equals(System.getenv("TERM"));
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                java.nio.charset.StandardCharsets.UTF_8));
        try (ChatClient client = new ChatClient(target, owner)) {
            return new InteractiveChat(client, target, in, out, err, terminal, colour, session, system, sampling,
                    deadline).run();
        } catch (java.io.IOException e) {
            throw new UserError("reading stdin: " + e.getMessage(), 1);
        }
    }

    private static String lower(String name, String prefix) {
        return name.startsWith(prefix) ? name.substring(prefix.length()).toLowerCase(Locale.ROOT)
                : name.toLowerCase(Locale.ROOT);
    }
}
