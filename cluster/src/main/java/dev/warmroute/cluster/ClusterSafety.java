package dev.warmroute.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.concurrent.Callable;

/**
 * Asks a data member whether the cluster is safe (every partition's backups in place), which only a member can tell:
 * a client's {@code PartitionService} refuses {@code isClusterSafe()}. Routers, being clients, submit this task to
 * the {@link #EXECUTOR} executor; workers (and any member started with {@link HazelcastFactory}) have the class and
 * its serializer, so the task runs there.
 */
public final class ClusterSafety implements Callable<Boolean>, HazelcastInstanceAware {

    /** The executor service the task runs on. */
    public static final String EXECUTOR = "warmroute-admin";

    private transient HazelcastInstance hz;

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.hz = hazelcastInstance;
    }

    @Override
    public Boolean call() {
        return hz != null && hz.getPartitionService().isClusterSafe();
    }

    /** No fields: the explicit serializer keeps the task off Java serialisation. */
    public static final class Serializer implements CompactSerializer<ClusterSafety> {
        @Override
        public ClusterSafety read(CompactReader in) {
            return new ClusterSafety();
        }

        @Override
        public void write(CompactWriter out, ClusterSafety object) {
            // nothing to write
        }

        @Override
        public String getTypeName() {
            return "warmroute.ClusterSafety";
        }

        @Override
        public Class<ClusterSafety> getCompactClass() {
            return ClusterSafety.class;
        }
    }
}
