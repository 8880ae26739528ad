package dev.warmroute.worker;

import dev.warmroute.cluster.LogSafe;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * How much history one worker lets a cluster hold for its callers: sessions per owner, sessions in all, and turns per
 * session. Every worker of a cluster should be started with the same values (they are checked where the call lands).
 *
 * <p>Sessions are counted before the create (one count query, or an aggregation without a store), so concurrent
 * creates of one owner may pass a few over the limit; the limit is a guard against floods, not an exact quota. A
 * session at its turn limit is refused, not archived: its history stays readable and exportable, and the owner starts
 * a new session.
 *
 * @param perOwner     sessions one owner may hold
 * @param total        sessions the cluster may hold
 * @param turnsPerSession turns one session may hold
 */
public record SessionLimits(long perOwner, long total, int turnsPerSession) {

    public static final SessionLimits DEFAULTS = new SessionLimits(10_000, 1_000_000, 10_000);

    public SessionLimits {
        if (perOwner < 1 || total < 1 || perOwner > total) {
            throw new IllegalArgumentException("max-sessions-per-owner and max-sessions: must be positive with"
                    + " per-owner <= total, got " + perOwner + " and " + total);
        }
        if (turnsPerSession < 1) {
            throw new IllegalArgumentException("max-session-turns: must be positive, got " + turnsPerSession);
        }
    }

    /** Refuses a new session of {@code owner} over either limit, counting the sessions in {@code store}. */
    void checkNewSession(String owner, SessionStore store) {
        long mine = store.count(owner);
        if (mine >= perOwner) {
            throw exhausted("sessions: owner '" + LogSafe.id(owner) + "' holds " + mine + " sessions, the limit"
                    + " (--max-sessions-per-owner " + perOwner + "); delete some (DeleteSession) first");
        }
        long all = store.count(null);
        if (all >= total) {
            throw exhausted("sessions: the cluster holds " + all + " sessions, the limit (--max-sessions " + total
                    + "); try again after old ones are deleted");
        }
    }

    /** Refuses a turn on a session that already holds {@link #turnsPerSession} turns. */
    void checkNewTurn(String sessionId, int turns) {
        if (turns >= turnsPerSession) {
            throw exhausted("session_id: '" + sessionId + "' holds " + turns + " turns, the limit (--max-session-turns "
                    + turnsPerSession + "); its history stays readable, start a new session to go on");
        }
    }

    private static StatusRuntimeException exhausted(String message) {
        return Status.RESOURCE_EXHAUSTED.withDescription(message).asRuntimeException();
    }
}
