package dev.warmroute.router;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * Where a session lives: the value of the {@code bindings} map (session id → binding).
 *
 * <p>Every router reads it before placing a turn and changes it only by compare-and-set, raising the epoch, so all
 * routers agree on one worker per session and a worker that comes back does not pull sessions away from the worker
 * where they are warm now: the binding points there.
 *
 * @param workerId  the worker the session is bound to
 * @param epoch     1 for the first binding, +1 each time the session moves
 * @param boundAtMs when this binding was written (epoch ms), for operators
 * @param routerId  the router that wrote it, for operators
 */
public record Binding(String workerId, long epoch, long boundAtMs, String routerId) {

    public Binding {
        if (workerId == null || workerId.isEmpty()) {
            throw new IllegalArgumentException("binding worker id: required");
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("binding epoch: must be at least 1, got " + epoch);
        }
        routerId = routerId == null ? "" : routerId;
    }

    /** The first binding of a session. */
    static Binding first(String workerId, String routerId) {
        return new Binding(workerId, 1, System.currentTimeMillis(), routerId);
    }

    /** The binding after moving the session to {@code workerId}. */
    Binding movedTo(String workerId, String routerId) {
        return new Binding(workerId, epoch + 1, System.currentTimeMillis(), routerId);
    }

    /**
     * Explicit Compact serializer. Members query the {@code workerId} field (sessions bound per worker) without this
     * class on their classpath: Compact carries its schema.
     */
    public static final class Serializer implements CompactSerializer<Binding> {
        @Override
        public Binding read(CompactReader in) {
            return new Binding(in.readString("workerId"), in.readInt64("epoch"), in.readInt64("boundAtMs"),
                    in.readString("routerId"));
        }

        @Override
        public void write(CompactWriter out, Binding b) {
            out.writeString("workerId", b.workerId());
            out.writeInt64("epoch", b.epoch());
            out.writeInt64("boundAtMs", b.boundAtMs());
            out.writeString("routerId", b.routerId());
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
