package dev.warmroute.worker;

import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import java.io.IOException;

/**
 * Two real workers in a cluster of their own (b joins a), and a client of each: the setup of every test in which a
 * session moves between workers (cold, partial, replayed or resumed turns).
 */
record TwoWorkers(InProcessCluster<WorkerServer> cluster, WorkerServer a, WorkerServer b, ChatClient toA,
        ChatClient toB) implements AutoCloseable {

    static TwoWorkers start() throws IOException {
        InProcessCluster<WorkerServer> cluster = TestWorkers.cluster();
        try {
            WorkerServer a = TestWorkers.add(cluster);
            WorkerServer b = TestWorkers.add(cluster);
            return new TwoWorkers(cluster, a, b, new ChatClient(a.address()), new ChatClient(b.address()));
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Clients first, then b, then a (the seed). */
    @Override
    public void close() {
        toA.close();
        toB.close();
        cluster.close();
    }
}
