package dev.warmroute.cli.drill;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cli.UserError;
import dev.warmroute.cli.chat.ChatClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks what the client was told against what the cluster stored. Every drill message is unique within its
 * session, so a turn is found in the history by its user text:
 * <ul>
 *   <li><b>lost</b>: the client got a complete answer, but the history does not hold the turn;</li>
 *   <li><b>duplicated</b>: the history holds the turn more than once;</li>
 *   <li><b>answer mismatch</b>: the history holds the turn with another answer than the client received (a resumed
 *       stream that was not stitched exactly, or a replay that differs);</li>
 *   <li><b>unacknowledged commit</b>: the client saw an error but the turn was committed (not an error in itself —
 *       retrying with the same request id replays it — but it is reported).</li>
 * </ul>
 * Without these checks a drill's "0 lost" would mean nothing; the tests of this class make sure a deliberately
 * lost or duplicated turn is detected.
 */
public final class HistoryAudit {

    /** A stored message pair of the history, in order. */
    public record StoredTurn(String userText, String answer) {}

    public record Finding(String sessionId, String userText, String kind, String detail) {}

    public record Result(int checkedTurns, int lost, int duplicated, int answerMismatches,
            int unacknowledgedCommits, List<Finding> findings) {}

    private HistoryAudit() {}

    /**
     * The stored turns (user text, answer), in order, of each of {@code sessionIds}, read through the router. A
     * session that is not stored is left out (every acknowledged turn of it then counts as lost).
     */
    public static Map<String, List<StoredTurn>> read(ChatClient client, Collection<String> sessionIds) {
        Map<String, List<StoredTurn>> out = new HashMap<>();
        for (String id : sessionIds) {
            Session session;
            try {
                session = client.session(id, true, Duration.ofSeconds(30));
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                    continue;
                }
                throw new UserError("reading the history of " + id + ": " + e.getStatus().getCode() + ": "
                        + e.getStatus().getDescription(), 1);
            }
            Map<Integer, String> users = new LinkedHashMap<>();
            Map<Integer, String> answers = new HashMap<>();
            for (ChatMessage m : session.getMessagesList()) {
                if (m.getRole() == Role.ROLE_USER) {
                    users.put(m.getTurnIndex(), m.getContent());
                } else if (m.getRole() == Role.ROLE_ASSISTANT) {
                    answers.put(m.getTurnIndex(), m.getContent());
                }
            }
            List<StoredTurn> turns = new ArrayList<>();
            users.forEach((k, text) -> turns.add(new StoredTurn(text, answers.getOrDefault(k, ""))));
            out.put(id, turns);
        }
        return out;
    }

    /**
     * @param turns    every turn the client attempted
     * @param stored   per session, the turns in its stored history (absent session: nothing stored)
     */
    public static Result audit(List<TurnRecord> turns, Map<String, List<StoredTurn>> stored) {
        List<Finding> findings = new ArrayList<>();
        int lost = 0;
        int duplicated = 0;
        int mismatches = 0;
        int unacknowledged = 0;
        Map<String, Map<String, List<StoredTurn>>> index = new HashMap<>();
        stored.forEach((session, history) -> {
            Map<String, List<StoredTurn>> byText = new HashMap<>();
            for (StoredTurn t : history) {
                byText.computeIfAbsent(t.userText(), k -> new ArrayList<>()).add(t);
            }
            index.put(session, byText);
        });
        for (TurnRecord t : turns) {
            List<StoredTurn> found = index.getOrDefault(t.sessionId(), Map.of()).getOrDefault(t.userText(), List.of());
            if (found.size() > 1) {
                duplicated++;
                findings.add(new Finding(t.sessionId(), t.userText(), "duplicated",
                        "stored " + found.size() + " times"));
            }
            if (t.ok()) {
                if (found.isEmpty()) {
                    lost++;
                    findings.add(new Finding(t.sessionId(), t.userText(), "lost",
                            "acknowledged to the client (request " + t.requestId() + ") but not in the history"));
                } else if (!found.get(0).answer().equals(t.answer())) {
                    mismatches++;
                    findings.add(new Finding(t.sessionId(), t.userText(), "answer mismatch",
                            "client received " + t.answer().length() + " chars, history holds "
                                    + found.get(0).answer().length()));
                }
            } else if (!found.isEmpty()) {
                unacknowledged++;
                findings.add(new Finding(t.sessionId(), t.userText(), "unacknowledged commit",
                        "client saw '" + t.error() + "' but the turn is stored"));
            }
        }
        return new Result(turns.size(), lost, duplicated, mismatches, unacknowledged, List.copyOf(findings));
    }
}
