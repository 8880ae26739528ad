package dev.warmroute.http;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.ApiLimits;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.UUID;

/**
 * Which session a request talks in, and whether what it repeats of the conversation is what the server stored.
 *
 * <p>OpenAI's API is stateless: clients send the whole conversation every time. warmroute keeps it on the server, so
 * a client that names a session (header {@code x-session-id}, else the {@code user} field) needs to send only the
 * new user message. Clients that send everything anyway are served too: the earlier messages must repeat the end of
 * the stored history exactly (a client that trims old turns sends a suffix), and the system message, if any, must be
 * the session's system prompt. Anything else is a 400 that says where the request and the history part: the server
 * never rewrites history to match a request, and never drops what a request says without telling.
 *
 * <p>Without a session the request is stateless: a one-turn session with a generated id, removed after the turn.
 */
final class Conversations {

    /** Where a turn goes. {@code repeatOfLast}: the request is the last committed turn again (a client's retry). */
    record Target(String sessionId, boolean stateless, boolean knownToExist, boolean repeatOfLast) {}

    private final Upstream upstream;

    Conversations(Upstream upstream) {
        this.upstream = upstream;
    }

    /**
     * Resolves the session and checks the repeated history; creates the session when the request carries what it
     * needs (a system prompt) or when it is stateless. A session named by a request that repeats no history and has
     * no system message is not read at all: the turn goes straight to SendMessage ({@link #createIfAbsent} runs only
     * when that says NOT_FOUND), so a warm turn costs one call.
     */
    Target resolve(Upstream.Caller caller, CompletionRequest request, String headerSessionId) {
        String sessionId = headerSessionId != null ? headerSessionId : request.user();
        CompletionRequest.Message system = request.system();
        List<CompletionRequest.Message> earlier = request.earlier();
        if (sessionId == null) {
            if (!earlier.isEmpty()) {
                throw OpenAiError.invalid("messages", "a request without a session (header x-session-id, or user) "
                        + "is one stateless turn: send a system message (optional) and one user message; for a "
                        + "conversation, name a session and the server keeps its history");
            }
            String id = "oai-" + UUID.randomUUID();
            upstream.createSession(caller, create(id, system, false));
            return new Target(id, true, true, false);
        }
        if (system == null && earlier.isEmpty()) {
            return new Target(sessionId, false, false, false);
        }
        Session stored;
        try {
            stored = upstream.getSession(caller, sessionId, !earlier.isEmpty());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                throw e;
            }
            if (!earlier.isEmpty()) {
                throw OpenAiError.invalid("messages[" + earlier.getFirst().index() + "]", "session '" + sessionId
                        + "' has no stored history, so the request cannot repeat " + earlier.size() + " earlier "
                        + "messages; the server keeps the history: send the system message (optional) and the new "
                        + "user message");
            }
            stored = upstream.createSession(caller, create(sessionId, system, true));
        }
        checkSystem(stored, system);
        boolean repeat = !earlier.isEmpty() && checkHistory(stored, earlier, request.last());
        return new Target(sessionId, false, true, repeat);
    }

    /** After SendMessage said NOT_FOUND for a session named by the request: create it (no system prompt). */
    void createIfAbsent(Upstream.Caller caller, String sessionId) {
        upstream.createSession(caller, create(sessionId, null, true));
    }

    /** The stateless turn's session is removed after the turn, whatever happened. */
    void removeStateless(Upstream.Caller caller, Target target) {
        if (target.stateless()) {
            upstream.deleteSession(caller, target.sessionId());
        }
    }

    private static CreateSessionRequest create(String id, CompletionRequest.Message system, boolean allowExisting) {
        return CreateSessionRequest.newBuilder().setSessionId(id).setSystemPrompt(system == null ? ""
                : system.content()).setAllowExisting(allowExisting).build();
    }

    private static void checkSystem(Session stored, CompletionRequest.Message system) {
        if (system != null && !system.content().equals(stored.getSystemPrompt())) {
            throw OpenAiError.invalid("messages[0].content", "differs from the system prompt of session '"
                    + stored.getSessionId() + "' (" + stored.getSystemPrompt().length() + " characters: "
                    + quote(stored.getSystemPrompt()) + "); a session's system prompt is fixed when it is created: "
                    + "send the same one, or none");
        }
    }

    /**
     * Checks that {@code earlier} repeats the end of the stored turns. Returns true when the request instead repeats
     * the last committed turn itself (earlier + new message = the stored history without its last answer): a retry.
     */
    private static boolean checkHistory(Session stored, List<CompletionRequest.Message> earlier,
            CompletionRequest.Message last) {
        List<ChatMessage> turns = stored.getMessagesList().stream().filter(m -> m.getRole() != Role.ROLE_SYSTEM)
                .toList();
        if (endsWith(turns, earlier)) {
            return false;
        }
        // A retry of the last turn: [..earlier, last] matches the stored history up to its last answer.
        if (turns.size() >= 2 && last.content().equals(turns.get(turns.size() - 2).getContent())
                && endsWith(turns.subList(0, turns.size() - 2), earlier)) {
            return true;
        }
        // Not a suffix: say where it parts from the history, read from the start (clients that resend the whole
        // conversation are the common case).
        for (int i = 0; i < Math.min(earlier.size(), turns.size()); i++) {
            ChatMessage s = turns.get(i);
            CompletionRequest.Message m = earlier.get(i);
            if (!s.getContent().equals(m.content())) {
                String what = s.getRole() == Role.ROLE_USER ? "user message" : "answer";
                throw OpenAiError.invalid("messages[" + m.index() + "].content", "differs from turn "
                        + s.getTurnIndex() + "'s " + what + " stored in session '" + stored.getSessionId() + "' ("
                        + quote(s.getContent()) + " stored, " + quote(m.content()) + " sent); the server keeps the "
                        + "history: send only the new user message, or the stored messages unchanged");
            }
        }
        throw OpenAiError.invalid("messages", "repeats " + earlier.size() + " earlier messages, but session '"
                + stored.getSessionId() + "' stores " + turns.size() + " (" + stored.getTurnCount() + " turns) and "
                + "they are neither all of them nor their end; send only the new user message, or the stored "
                + "messages unchanged");
    }

    /** True when {@code tail} equals the last {@code tail.size()} of {@code all} (roles alternate in both). */
    private static boolean endsWith(List<ChatMessage> all, List<CompletionRequest.Message> tail) {
        if (tail.size() > all.size()) {
            return false;
        }
        int offset = all.size() - tail.size();
        for (int i = 0; i < tail.size(); i++) {
            ChatMessage s = all.get(offset + i);
            CompletionRequest.Message m = tail.get(i);
            boolean sameRole = (s.getRole() == Role.ROLE_USER) == (m.role() == CompletionRequest.Role.USER);
            if (!sameRole || !s.getContent().equals(m.content())) {
                return false;
            }
        }
        return true;
    }

    static String sessionIdFromHeader(String header) {
        if (header == null) {
            return null;
        }
        if (!ApiLimits.ID.matcher(header).matches()) {
            throw OpenAiError.invalid("x-session-id", "header must be " + ApiLimits.ID_RULE + ", got '"
                    + CompletionRequestParser.abbreviate(header) + "'");
        }
        return header;
    }

    private static String quote(String s) {
        return "\"" + CompletionRequestParser.abbreviate(s.replace("\n", "\\n")) + "\"";
    }
}
