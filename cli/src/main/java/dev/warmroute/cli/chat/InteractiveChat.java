package dev.warmroute.cli.chat;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cluster.ApiLimits;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * The interactive form of {@code warmroute chat}: one line in, the answer streamed out as it comes, then one dim line
 * saying what happened (worker, warm/partial/cold and why, tokens reused/computed, time to first token, fallback or
 * resume). Keeps the session across turns; {@code /new}, {@code /history}, {@code /session ID}, {@code /help},
 * {@code /quit}. Works on a terminal and with piped input (then each line is echoed, so the output reads as a
 * transcript).
 */
public final class InteractiveChat {

    private static final String DIM = "\u001b[2m";
    private static final String RESET = "\u001b[0m";

    private final ChatClient client;
    private final String target;
    private final BufferedReader in;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean terminal;
    private final boolean colour;
    private final String system;
    private final SamplingParams sampling;
    private final Duration deadline;
    private final Set<String> ensured = new HashSet<>();
    private String session;

    /**
     * @param terminal true when a person types (prompt shown, lines not echoed)
     * @param colour   true to dim the per-turn line with ANSI escapes
     */
    public InteractiveChat(ChatClient client, String target, BufferedReader in, PrintWriter out, PrintWriter err,
            boolean terminal, boolean colour, String session, String system, SamplingParams sampling,
            Duration deadline) {
        this.client = client;
        this.target = target;
        this.in = in;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        this.colour = colour;
        this.session = session == null || session.isBlank() ? newSessionId() : session;
        this.system = system == null ? "" : system;
        this.sampling = sampling;
        this.deadline = deadline;
    }

    static String newSessionId() {
        return "chat-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Reads lines until /quit or the end of input; returns the exit code (0, or 1 when the last turn failed). */
    public int run() throws IOException {
        out.println(dim("chatting with " + target + " in session " + session
                + " — /help for commands, /quit or Ctrl-D to leave"));
        out.flush();
        int code = 0;
        while (true) {
            if (terminal) {
                out.print("you> ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null) {
                if (terminal) {
                    out.println();
                }
                break;
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (!terminal) {
                out.println("you> " + line);
            }
            if (line.startsWith("/")) {
                if (!command(line)) {
                    break;
                }
                continue;
            }
            code = turn(line) ? 0 : 1;
        }
        out.flush();
        return code;
    }

    /** Runs a slash command; false means quit. */
    private boolean command(String line) {
        String[] parts = line.split("\\s+", 2);
        String arg = parts.length > 1 ? parts[1].strip() : "";
        switch (parts[0]) {
            case "/quit", "/exit", "/q" -> {
                return false;
            }
            case "/new" -> {
                session = newSessionId();
                out.println(dim("new session " + session));
            }
            case "/session" -> {
                if (arg.isEmpty()) {
                    out.println(dim("session " + session + " (/session ID switches)"));
                } else if (!ApiLimits.ID.matcher(arg).matches()) {
                    err.println("session id: must be " + ApiLimits.ID_RULE + ", got '" + arg + "'");
                } else {
                    session = arg;
                    try {
                        Session s = ensure();
                        out.println(dim("session " + session + ": " + s.getTurnCount() + " turns so far"));
                    } catch (StatusRuntimeException e) {
                        failed(e);
                    }
                }
            }
            case "/history" -> history();
            case "/help", "/?" -> {
                out.println(dim("/new            start a new session"));
                out.println(dim("/session [ID]   show the session, or switch to ID (created if absent)"));
                out.println(dim("/history        the session's stored messages"));
                out.println(dim("/quit           leave (also Ctrl-D)"));
                out.println(dim("anything else is sent as your message"));
            }
            default -> err.println("unknown command " + parts[0] + "; /help lists them");
        }
        out.flush();
        err.flush();
        return true;
    }

    private Session ensure() {
        Session s = client.ensureSession(session, system, SessionSettings.newBuilder().setSampling(sampling).build(),
                deadline);
        ensured.add(session);
        return s;
    }

    private boolean turn(String text) {
        try {
            if (!ensured.contains(session)) {
                ensure();
            }
            boolean[] any = {false};
            ChatClient.TurnResult r = client.send(ChatClient.message(session, "", text, sampling),
                    d -> {
                        out.print(d.getText());
                        out.flush();
                        any[0] |= !d.getText().isEmpty();
                    }, deadline);
            if (any[0]) {
                out.println();
            }
            out.println(dim(describe(r.complete(), r.firstDeltaMs())));
            out.flush();
            return true;
        } catch (StatusRuntimeException e) {
            out.println();
            failed(e);
            return false;
        }
    }

    private void failed(StatusRuntimeException e) {
        out.flush();
        err.println(dev.warmroute.cluster.tls.ClientTls.describe(e.getStatus()));
        err.flush();
    }

    /** The per-turn line, e.g. {@code [w2 · warm · 412 reused / 14 computed · TTFT 35 ms]}. */
    static String describe(TurnComplete c, double clientTtftMs) {
        StringBuilder sb = new StringBuilder("[").append(c.getWorkerId()).append(" · ");
        String status = lower(c.getCache().getStatus().name(), "CACHE_STATUS_");
        sb.append(status);
        String reason = lower(c.getCache().getReason().name(), "CACHE_REASON_");
        if (!reason.equals("none") && !reason.equals("unspecified")) {
            sb.append(" (").append(reason.replace('_', ' ')).append(')');
        }
        sb.append(" · ").append(c.getUsage().getReusedTokens()).append(" reused / ")
                .append(c.getUsage().getComputedTokens()).append(" computed tokens");
        double ttft = clientTtftMs >= 0 ? clientTtftMs : c.getTimings().getTtftMs();
        sb.append(" · TTFT ").append(String.format(Locale.ROOT, ttft < 10 ? "%.1f" : "%.0f", ttft)).append(" ms");
        if (c.getRouting().getFallback()) {
            sb.append(" · fallback from ").append(c.getRouting().getPreferredWorker());
            if (!c.getRouting().getFallbackReason().isEmpty()) {
                sb.append(" (").append(c.getRouting().getFallbackReason()).append(')');
            }
        }
        if (c.getRouting().getResumed()) {
            sb.append(" · resumed mid-answer");
        }
        if (c.getReplayed()) {
            sb.append(" · replayed");
        }
        if (c.getWindow().getPruned()) {
            sb.append(" · window cut ").append(c.getWindow().getPrunedTurns()).append(" turns");
        }
        return sb.append(']').toString();
    }

    private void history() {
        try {
            Session s = client.session(session, true, deadline);
            out.println(dim("session " + s.getSessionId() + ": " + s.getTurnCount() + " turns, window from turn "
                    + s.getWindowStart() + " (" + s.getWindowTokens() + " tokens), model " + s.getModelId()));
            for (ChatMessage m : s.getMessagesList()) {
                String who = switch (m.getRole()) {
                    case ROLE_SYSTEM -> "system";
                    case ROLE_USER -> "you";
                    case ROLE_ASSISTANT -> "assistant";
                    default -> lower(m.getRole().name(), "ROLE_");
                };
                String turn = m.getRole() == Role.ROLE_SYSTEM ? "   " : String.format(Locale.ROOT, "%2d ",
                        m.getTurnIndex());
                out.println(turn + who + ": " + m.getContent() + (m.getInWindow() || m.getRole() == Role.ROLE_SYSTEM
                        ? "" : dim("  (pruned from the prompt)")));
            }
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
                out.println(dim("session " + session + " has no messages yet"));
            } else {
                failed(e);
            }
        }
    }

    private String dim(String s) {
        return colour ? DIM + s + RESET : s;
    }

    private static String lower(String name, String prefix) {
        return (name.startsWith(prefix) ? name.substring(prefix.length()) : name).toLowerCase(Locale.ROOT);
    }
}
