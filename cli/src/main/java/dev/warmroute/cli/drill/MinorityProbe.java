package dev.warmroute.cli.drill;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.UserError;
import dev.warmroute.cli.chat.ChatClient;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The partition drill's look at the minority side: a few sessions of their own, each with one turn through the
 * majority's router before the cut, then one turn each through the router inside the split while it is cut off.
 * Those turns must be refused with a status that says why (the quorum), and after the heal each probe session must
 * hold exactly its acknowledged turns: one history, whatever the minority did.
 */
final class MinorityProbe {

    /** A probe turn sent through the minority's router: acknowledged (TurnComplete), or its status. */
    record Outcome(String sessionId, boolean acknowledged, String status) {
        String label() {
            return "minority router: turn of " + sessionId + (acknowledged ? " ACKNOWLEDGED" : " refused: " + status);
        }
    }

    static final int SESSIONS = 2;
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final String runId;
    private final String owner;
    private final int maxTokens;

    MinorityProbe(String runId, String owner, int maxTokens) {
        this.runId = runId;
        this.owner = owner;
        this.maxTokens = maxTokens;
    }

    String sessionId(int i) {
        return String.format(Locale.ROOT, "drill-%s-minority-%d", runId, i);
    }

    /** Turn {@code turn}'s text of probe session {@code i}, in the load's form (the probe sessions have ids of their own). */
    private static String userText(int i, int turn) {
        return ChatLoad.userText(90 + i, turn);
    }

    private SamplingParams sampling() {
        return SamplingParams.newBuilder().setTemperature(0).setMaxTokens(maxTokens).setSeed(1).build();
    }

    /** Creates the probe sessions and gives each its first turn, through the majority's router. */
    void prepare(ChatClient majority) {
        for (int i = 0; i < SESSIONS; i++) {
            String id = sessionId(i);
            try {
                majority.ensureSession(id, "", SessionSettings.newBuilder().setSampling(sampling()).build(), DEADLINE);
                majority.send(ChatClient.message(id, id + "-t0", userText(i, 0), sampling()), d -> { },
                        DEADLINE);
            } catch (StatusRuntimeException e) {
                throw new UserError("preparing the minority probe session " + id + ": " + e.getStatus().getCode()
                        + ": " + e.getStatus().getDescription(), 1);
            }
        }
    }

    /** One turn per probe session through {@code insideRouter}, all at once, each within 30 s. */
    List<Outcome> probe(String insideRouter) {
        try (ChatClient inside = new ChatClient(insideRouter, owner);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Outcome>> sent = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                String id = sessionId(i);
                String text = userText(i, 1);
                sent.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        inside.send(ChatClient.message(id, id + "-t1", text, sampling()), d -> { }, DEADLINE);
                        return new Outcome(id, true, "OK");
                    } catch (StatusRuntimeException e) {
                        return new Outcome(id, false, e.getStatus().getCode() + ": " + e.getStatus().getDescription());
                    }
                }, pool));
            }
            return sent.stream().map(CompletableFuture::join).toList();
        }
    }

    /**
     * After the heal, through the majority's router: the probe sessions whose stored history is not exactly their
     * first turn plus the probe turn when (and only when) it was acknowledged.
     */
    int inconsistentHistories(ChatClient majority, List<Outcome> outcomes) {
        int bad = 0;
        for (int i = 0; i < SESSIONS; i++) {
            String id = sessionId(i);
            boolean acked = outcomes.stream().anyMatch(o -> o.sessionId().equals(id) && o.acknowledged());
            List<String> users;
            try {
                users = majority.session(id, true, DEADLINE).getMessagesList().stream()
                        .filter(m -> m.getRole() == Role.ROLE_USER).map(ChatMessage::getContent).toList();
            } catch (StatusRuntimeException e) {
                bad++;
                continue;
            }
            List<String> expected = acked ? List.of(userText(i, 0), userText(i, 1))
                    : List.of(userText(i, 0));
            if (!users.equals(expected)) {
                bad++;
            }
        }
        return bad;
    }
}
