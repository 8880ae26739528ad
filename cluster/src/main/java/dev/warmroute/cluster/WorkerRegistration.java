package dev.warmroute.cluster;

import com.hazelcast.nio.serialization.FieldKind;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a worker advertises in the {@link ClusterMaps#WORKERS} map, refreshed by heartbeats.
 *
 * <p>The load it reports ({@code load}, turns in flight per router) lets every router bound a worker by its advertised
 * capacity: a router counts its own turns exactly and adds the other routers' turns as the worker last reported them
 * (at most a load-report interval old, {@link WorkerRegistry#LOAD_REPORT_INTERVAL}).
 *
 * @param workerId        stable id, by default the advertised gRPC address
 * @param address         gRPC address {@code host:port} routers connect to
 * @param capacity        turns the worker runs at once before it queues them
 * @param modelId         the model it serves (routers only send a session to workers of its model)
 * @param memberUuid      its Hazelcast member UUID, or empty when it is a client; lets routers drop it the moment
 *                        the member leaves instead of waiting for the entry's time-to-live
 * @param registeredAtMs  when it first registered (epoch ms)
 * @param heartbeatAtMs   when it last refreshed the entry (epoch ms)
 * @param queue           turns that may wait for a slot beyond {@code capacity} before the worker refuses with
 *                        RESOURCE_EXHAUSTED (0 when unknown: a registration of an older worker)
 * @param load            turns in flight on the worker now, per router id ({@code ""}: clients calling it directly);
 *                        empty when the worker reports none
 * @param loadAtMs        when {@code load} was taken (epoch ms, the worker's clock; 0 = never)
 */
public record WorkerRegistration(
        String workerId,
        String address,
        int capacity,
        String modelId,
        String memberUuid,
        long registeredAtMs,
        long heartbeatAtMs,
        int queue,
        Map<String, Integer> load,
        long loadAtMs) {

    /** Router ids longer than this are not kept apart in a worker's load report. */
    public static final int MAX_ROUTER_ID = 128;

    public WorkerRegistration {
        if (workerId == null || workerId.isBlank()) {
            throw new IllegalArgumentException("worker id: required");
        }
        HostPort.parse(address, "worker address");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: must be at least 1, got " + capacity);
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue: must be 0 or more, got " + queue);
        }
        modelId = modelId == null ? "" : modelId;
        memberUuid = memberUuid == null ? "" : memberUuid;
        load = load == null ? Map.of() : Map.copyOf(load);
    }

    /** A registration without queue or load facts (tests, scripted workers). */
    public WorkerRegistration(String workerId, String address, int capacity, String modelId, String memberUuid,
            long registeredAtMs, long heartbeatAtMs) {
        this(workerId, address, capacity, modelId, memberUuid, registeredAtMs, heartbeatAtMs, 0, Map.of(), 0);
    }

    public WorkerRegistration withHeartbeat(long nowMs) {
        return new WorkerRegistration(workerId, address, capacity, modelId, memberUuid, registeredAtMs, nowMs, queue,
                load, loadAtMs);
    }

    /** The same registration with the load taken at {@code nowMs}. */
    public WorkerRegistration withLoad(Map<String, Integer> turnsPerRouter, long nowMs) {
        return new WorkerRegistration(workerId, address, capacity, modelId, memberUuid, registeredAtMs, nowMs, queue,
                turnsPerRouter, nowMs);
    }

    /** Turns in flight on the worker for every router but {@code routerId}, as last reported. */
    public int inFlightExcept(String routerId) {
        int n = 0;
        for (Map.Entry<String, Integer> e : load.entrySet()) {
            if (!e.getKey().equals(routerId)) {
                n += e.getValue();
            }
        }
        return n;
    }

    /**
     * Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. Fields added later
     * (queue, load) are absent from registrations of older workers and read as unknown.
     */
    public static final class Serializer implements CompactSerializer<WorkerRegistration> {
        @Override
        public WorkerRegistration read(CompactReader in) {
            int queue = in.getFieldKind("queue") == FieldKind.INT32 ? in.readInt32("queue") : 0;
            Map<String, Integer> load = new TreeMap<>();
            if (in.getFieldKind("loadRouters") == FieldKind.ARRAY_OF_STRING
                    && in.getFieldKind("loadTurns") == FieldKind.ARRAY_OF_INT32) {
                String[] routers = in.readArrayOfString("loadRouters");
                int[] turns = in.readArrayOfInt32("loadTurns");
                for (int i = 0; routers != null && turns != null && i < Math.min(routers.length, turns.length); i++) {
                    if (routers[i] != null) {
                        load.merge(routers[i], Math.max(0, turns[i]), Integer::sum);
                    }
                }
            }
            long loadAt = in.getFieldKind("loadAtMs") == FieldKind.INT64 ? in.readInt64("loadAtMs") : 0;
            return new WorkerRegistration(in.readString("workerId"), in.readString("address"),
                    in.readInt32("capacity"), in.readString("modelId"), in.readString("memberUuid"),
                    in.readInt64("registeredAtMs"), in.readInt64("heartbeatAtMs"), Math.max(0, queue), load, loadAt);
        }

        @Override
        public void write(CompactWriter out, WorkerRegistration r) {
            out.writeString("workerId", r.workerId());
            out.writeString("address", r.address());
            out.writeInt32("capacity", r.capacity());
            out.writeString("modelId", r.modelId());
            out.writeString("memberUuid", r.memberUuid());
            out.writeInt64("registeredAtMs", r.registeredAtMs());
            out.writeInt64("heartbeatAtMs", r.heartbeatAtMs());
            out.writeInt32("queue", r.queue());
            String[] routers = r.load().keySet().toArray(String[]::new);
            int[] turns = new int[routers.length];
            for (int i = 0; i < routers.length; i++) {
                turns[i] = r.load().get(routers[i]);
            }
            out.writeArrayOfString("loadRouters", routers);
            out.writeArrayOfInt32("loadTurns", turns);
            out.writeInt64("loadAtMs", r.loadAtMs());
        }

        @Override
        public String getTypeName() {
            return "warmroute.WorkerRegistration";
        }

        @Override
        public Class<WorkerRegistration> getCompactClass() {
            return WorkerRegistration.class;
        }
    }
}
