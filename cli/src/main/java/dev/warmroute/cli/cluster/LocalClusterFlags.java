package dev.warmroute.cli.cluster;

import dev.warmroute.cluster.launch.LocalClusterOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags of the commands that start a local cluster ({@code cluster up}, {@code drill}, {@code bench cluster},
 * {@code bench router}): what each worker may use, and how fast a dead member is noticed. A picocli mixin; each
 * command gives its own defaults (a drill's workers need less cache than a benchmark's), which picocli takes from the
 * fields' initial values and shows in the help.
 */
public final class LocalClusterFlags {

    @Option(names = "--threads", paramLabel = "N",
            description = "Compute threads of one forward pass per worker; 0 = all cores, -1 = cores / workers, at "
                    + "least 1 (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--kv-cache-mb", paramLabel = "MB", description = "KV cache budget per worker (default "
            + "${DEFAULT-VALUE}).")
    int kvCacheMb;

    @Option(names = "--capacity", paramLabel = "N",
            description = "Turns each worker computes at once; more wait in its queue (default ${DEFAULT-VALUE}).")
    int capacity;

    @Option(names = "--heartbeat-ms", paramLabel = "MS",
            description = "Hazelcast heartbeat of the workers and the router (default ${DEFAULT-VALUE}).")
    long heartbeatMs = 1000;

    @Option(names = "--max-no-heartbeat-ms", paramLabel = "MS",
            description = "A member silent this long is removed (default ${DEFAULT-VALUE}).")
    long maxNoHeartbeatMs = 5000;

    /** The command's defaults for the worker resources. */
    public LocalClusterFlags(int threads, int kvCacheMb, int capacity) {
        this.threads = threads;
        this.kvCacheMb = kvCacheMb;
        this.capacity = capacity;
    }

    public int threads() {
        return threads;
    }

    public int kvCacheMb() {
        return kvCacheMb;
    }

    public int capacity() {
        return capacity;
    }

    /** Sets threads, KV budget, capacity and failure detection on {@code builder} (which validates them). */
    public LocalClusterOptions.Builder applyTo(LocalClusterOptions.Builder builder) {
        return builder.workerThreads(threads).kvCacheMb(kvCacheMb).capacity(capacity)
                .heartbeat(Duration.ofMillis(heartbeatMs)).maxNoHeartbeat(Duration.ofMillis(maxNoHeartbeatMs));
    }
}
