package dev.warmroute.router;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.FieldKind;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * Where a session lives: the value of the {@code bindings} map (session id → binding).
 *
 * <p>Every router reads it before placing a turn and changes it only by compare-and-set, raising the epoch, so all
 * routers agree on one worker per session and a worker that comes back does not pull sessions away from the worker
 * where they are warm now: the binding points there.
 *
 * <p>Why it was made decides whether it may be rebalanced: a {@link Kind#PREFERRED} binding follows the rendezvous
 * hash, so when a worker joins that is now the session's first choice (it registered after {@code horizonMs}, the
 * newest registration the writing router knew of), the session moves there once; a {@link Kind#FALLBACK} binding
 * (failover, drain) never moves back when its old worker returns, because the session is warm where it is; a
 * {@link Kind#SPILLED} one (its first choice was full) goes back to its first choice once that has room.
 *
 * @param workerId  the worker the session is bound to
 * @param epoch     1 for the first binding, +1 each time the session moves
 * @param boundAtMs when this binding was written (epoch ms), for operators
 * @param routerId  the router that wrote it, for operators
 * @param kind      why it was made (bindings written before this field existed read as FALLBACK: never rebalanced)
 * @param horizonMs the newest worker registration time ({@code WorkerRegistration.registeredAtMs}, the workers'
 *                  clocks) among the workers the router knew when it wrote the binding; 0 when unknown
 */
public record Binding(String workerId, long epoch, long boundAtMs, String routerId, Kind kind, long horizonMs) {

    /** Why a binding was made. */
    public enum Kind {
        /** The session's rendezvous-hash first choice at the time (a new session, or a move by rebalancing). */
        PREFERRED,
        /** Anything else: failover, drain, a retry on another worker after a failure. */
        FALLBACK,
        /**
         * The session's first choice was full (over the load bound, at capacity, or it refused the turn as full):
         * the session goes back to its hash's first choice on a later turn once that has room.
         */
        SPILLED
    }

    public Binding {
        if (workerId == null || workerId.isEmpty()) {
            throw new IllegalArgumentException("binding worker id: required");
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("binding epoch: must be at least 1, got " + epoch);
        }
        routerId = routerId == null ? "" : routerId;
        kind = kind == null ? Kind.FALLBACK : kind;
    }

    /** A binding written before kinds existed, or by a test: FALLBACK, no horizon. */
    public Binding(String workerId, long epoch, long boundAtMs, String routerId) {
        this(workerId, epoch, boundAtMs, routerId, Kind.FALLBACK, 0);
    }

    /** The first binding of a session. */
    static Binding first(String workerId, String routerId, Kind kind, long horizonMs) {
        return new Binding(workerId, 1, System.currentTimeMillis(), routerId, kind, horizonMs);
    }

    /** The binding after moving the session to {@code workerId}. */
    Binding movedTo(String workerId, String routerId, Kind kind, long horizonMs) {
        return new Binding(workerId, epoch + 1, System.currentTimeMillis(), routerId, kind, horizonMs);
    }

    /**
     * Explicit Compact serializer. Members query the {@code workerId} field (sessions bound per worker) without this
     * class on their classpath: Compact carries its schema.
     */
    public static final class Serializer implements CompactSerializer<Binding> {
        @Override
        public Binding read(CompactReader in) {
            // Fields added later are absent from bindings written by older routers: read them as FALLBACK (never
            // rebalanced), which keeps every such session where it is.
            Kind kind = in.getFieldKind("kind") == FieldKind.STRING ? kindOf(in.readString("kind")) : Kind.FALLBACK;
            long horizon = in.getFieldKind("horizonMs") == FieldKind.INT64 ? in.readInt64("horizonMs") : 0;
            return new Binding(in.readString("workerId"), in.readInt64("epoch"), in.readInt64("boundAtMs"),
                    in.readString("routerId"), kind, horizon);
        }

        /** A kind by name; an unknown one (a newer router's) reads as FALLBACK: the session stays where it is. */
        private static Kind kindOf(String name) {
            for (Kind k : Kind.values()) {
                if (k.name().equals(name)) {
                    return k;
                }
            }
            return Kind.FALLBACK;
        }

        @Override
        public void write(CompactWriter out, Binding b) {
            out.writeString("workerId", b.workerId());
            out.writeInt64("epoch", b.epoch());
            out.writeInt64("boundAtMs", b.boundAtMs());
            out.writeString("routerId", b.routerId());
            out.writeString("kind", b.kind().name());
            out.writeInt64("horizonMs", b.horizonMs());
        }

        @Override
        public String getTypeName() {
            return "warmroute.Binding";
        }

        @Override
        public Class<Binding> getCompactClass() {
            return Binding.class;
        }
    }
}
