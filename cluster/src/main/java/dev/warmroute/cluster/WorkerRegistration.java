package dev.warmroute.cluster;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * What a worker advertises in the {@link ClusterMaps#WORKERS} map, refreshed by heartbeats.
 *
 * @param workerId        stable id, by default the advertised gRPC address
 * @param address         gRPC address {@code host:port} routers connect to
 * @param capacity        turns the worker runs at once before it queues them
 * @param modelId         the model it serves (routers only send a session to workers of its model)
 * @param memberUuid      its Hazelcast member UUID, or empty when it is a client; lets routers drop it the moment
 *                        the member leaves instead of waiting for the entry's time-to-live
 * @param registeredAtMs  when it first registered (epoch ms)
 * @param heartbeatAtMs   when it last refreshed the entry (epoch ms)
 */
public record WorkerRegistration(
        String workerId,
        String address,
        int capacity,
        String modelId,
        String memberUuid,
        long registeredAtMs,
        long heartbeatAtMs) {

    public WorkerRegistration {
        if (workerId == null || workerId.isBlank()) {
            throw new IllegalArgumentException("worker id: required");
        }
        HostPort.parse(address, "worker address");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: must be at least 1, got " + capacity);
        }
        modelId = modelId == null ? "" : modelId;
        memberUuid = memberUuid == null ? "" : memberUuid;
    }

    public WorkerRegistration withHeartbeat(long nowMs) {
        return new WorkerRegistration(workerId, address, capacity, modelId, memberUuid, registeredAtMs, nowMs);
    }

    /** Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. */
    public static final class Serializer implements CompactSerializer<WorkerRegistration> {
        @Override
        public WorkerRegistration read(CompactReader in) {
            return new WorkerRegistration(in.readString("workerId"), in.readString("address"),
                    in.readInt32("capacity"), in.readString("modelId"), in.readString("memberUuid"),
                    in.readInt64("registeredAtMs"), in.readInt64("heartbeatAtMs"));
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
