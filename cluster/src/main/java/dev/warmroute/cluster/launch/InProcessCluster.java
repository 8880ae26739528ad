package dev.warmroute.cluster.launch;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Servers started inside this JVM that form one Hazelcast cluster of their own (a fresh cluster name, every port 0):
 * the benchmarks' workers ({@code bench ttft}, {@code bench window}) and the worker tests' workers. The first server
 * is the seed; each later one joins the members started before it. The kind of server is the caller's: this module
 * knows neither the worker nor the router, so it takes a {@link Starter} and a way to read a server's Hazelcast
 * address.
 *
 * <p>{@link #close()} stops the servers in reverse order (the seed last) and goes on past failures, so a test's
 * teardown never leaves a member behind for the next test.
 *
 * @param <S> the server type, e.g. the worker's {@code WorkerServer}
 */
public final class InProcessCluster<S extends AutoCloseable> implements AutoCloseable {

    /** Starts one server in {@code clusterName}, joining {@code seeds} (empty for the first). */
    @FunctionalInterface
    public interface Starter<S> {
        S start(String clusterName, List<String> seeds) throws IOException;
    }

    private final String name;
    private final Function<S, String> hazelcastAddress;
    private final List<S> servers = new ArrayList<>();

    /**
     * @param prefix           start of the cluster name (a random suffix keeps concurrent clusters apart)
     * @param hazelcastAddress a server's member address, or "" for one that is a Hazelcast client
     */
    public InProcessCluster(String prefix, Function<S, String> hazelcastAddress) {
        this.name = freshName(prefix);
        this.hazelcastAddress = hazelcastAddress;
    }

    /** {@code prefix-} and 8 random hex digits: a Hazelcast cluster name no other test or run uses. */
    public static String freshName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    public String name() {
        return name;
    }

    /**
     * Starts one more server joining the members started so far. When it fails, the servers already started keep
     * running (the caller's close stops them).
     */
    public synchronized S add(Starter<S> starter) throws IOException {
        S s = starter.start(name, seeds());
        servers.add(s);
        return s;
    }

    /** Hazelcast addresses of the servers that are members. */
    public synchronized List<String> seeds() {
        List<String> out = new ArrayList<>();
        for (S s : servers) {
            String a = hazelcastAddress.apply(s);
            if (a != null && !a.isEmpty()) {
                out.add(a);
            }
        }
        return out;
    }

    public synchronized S get(int i) {
        return servers.get(i);
    }

    public synchronized List<S> servers() {
        return List.copyOf(servers);
    }

    /** Stops every server, last started first; a failure to stop one does not keep the others running. */
    @Override
    public synchronized void close() {
        RuntimeException first = null;
        for (int i = servers.size() - 1; i >= 0; i--) {
            try {
                servers.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("stopping server " + i + " of cluster " + name + " failed", e);
                }
            }
        }
        servers.clear();
        if (first != null) {
            throw first;
        }
    }
}
