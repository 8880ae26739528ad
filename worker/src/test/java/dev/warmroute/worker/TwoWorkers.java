package dev.warmroute.worker;

import java.io.IOException;
import java.util.List;

/**
 * Two real workers in a cluster of their own (b joins a), and a client of each: the setup of every test in which a
 * session moves between workers (cold, partial, replayed or resumed turns).
 */
record TwoWorkers(String cluster, WorkerServer a, WorkerServer b, ChatClient toA, ChatClient toB)
        implements AutoCloseable {

    static TwoWorkers start() throws IOException {
        String cluster = TestWorkers.clusterName();
        WorkerServer a = TestWorkers.start(cluster, List.of());
        WorkerServer b;
        try {
            b = TestWorkers.start(cluster, List.of(a.hazelcastAddress()));
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e;
        }
        return new TwoWorkers(cluster, a, b, new ChatClient(a.address()), new ChatClient(b.address()));
    }

    /** Clients first, then b, then a (the seed). */
    @Override
    public void close() {
        TestWorkers.closeQuietly(toA, toB, b, a);
    }
}
