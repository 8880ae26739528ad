package dev.warmroute.cli.drill;

import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.NetworkSplit;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The fault a drill injects into its own cluster, one at a time: after each step it waits until the cluster is safe
 * again (every partition's backups in place, AdminService {@code cluster_safe}) before doing anything else, because
 * with one backup a second loss before re-replication could lose history.
 *
 * <ul>
 *   <li>{@code kill}: kill -9 of the worker (noticed at once: refused connections);</li>
 *   <li>{@code stop}: SIGTERM, a graceful stop (turns finish, partitions migrate first);</li>
 *   <li>{@code restart}: kill -9, then the same worker (id and ports) starts again a few seconds later;</li>
 *   <li>{@code join}: a new worker joins (the victim is not touched);</li>
 *   <li>{@code freeze}: SIGSTOP — alive, sockets open, answering nothing, noticed only through heartbeats — then
 *       SIGCONT after a while;</li>
 *   <li>{@code restart-all}: kill -9 of every process (router, workers, the history store's process), then all of
 *       them start again on the same data: only the store keeps anything. Clients retry UNAVAILABLE meanwhile with
 *       the same request ids, as a real client must when nothing serves;</li>
 *   <li>{@code store-outage}: the history store stops (the H2 store process, or an external database through
 *       {@link StoreCommands}) for a while under load, then comes back: turns fail meanwhile with UNAVAILABLE naming
 *       the store, none is acknowledged without being stored, and the cluster serves again by itself;</li>
 *   <li>{@code partition}: a network split ({@link NetworkSplit}) cuts one worker and a second router off from the
 *       rest for a while under load: the majority goes on, the minority refuses writes (no quorum), a probe through
 *       the router inside says with which status, and after the heal the worker merges back with one history per
 *       session;</li>
 *   <li>{@code none}: no fault (load and history audit only; the only scenario possible against --target).</li>
 * </ul>
 */
public enum Fault {
    KILL, STOP, RESTART, JOIN, FREEZE, RESTART_ALL, STORE_OUTAGE, PARTITION, NONE;

    /**
     * How {@code store-outage} stops and starts an external store (PostgreSQL): shell commands, e.g. {@code pg_ctl
     * stop}. Empty: the cluster's own H2 store process is stopped and started.
     */
    public record StoreCommands(String stop, String start) {
        public static final StoreCommands NONE = new StoreCommands("", "");

        void run(String command, String what) throws IOException, InterruptedException {
            Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0) {
                throw new IOException(what + " command failed (" + command + "): " + out);
            }
        }
    }

    /** Parses {@code restart-all} as well as {@code RESTART_ALL} (the command line's spelling). */
    public static final class Converter implements picocli.CommandLine.ITypeConverter<Fault> {
        @Override
        public Fault convert(String value) {
            for (Fault f : values()) {
                if (f.label().equalsIgnoreCase(value) || f.name().equalsIgnoreCase(value)) {
                    return f;
                }
            }
            throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a scenario: "
                    + java.util.Arrays.stream(values()).map(Fault::label).toList());
        }
    }

    /**
     * What {@code partition} needs besides the cluster: the split (the victim and {@code insideRouter} run inside it),
     * how long it stays cut, how long the minority may take to notice it is one, and the probe of the minority.
     */
    public record Partition(NetworkSplit split, String insideRouter, Duration hold, Duration noticedWithin,
            java.util.function.Supplier<List<MinorityProbe.Outcome>> probe) {}

    /** Whether clients must retry UNAVAILABLE themselves (nothing serves for a while). */
    public boolean clientsRetry() {
        return this == RESTART_ALL;
    }

    /** Something that happened, at ms since the drill started. */
    public record Event(double atMs, String label) {}

    /** Timings of the fault sequence, for the report. */
    public static final class Timeline {
        private final List<Event> events = new ArrayList<>();
        private volatile double faultAtMs = -1;
        private volatile double safeAgainMs = -1;
        private volatile double storeBackMs = -1;
        private volatile List<MinorityProbe.Outcome> minority = List.of();
        private volatile boolean rejoined = true;

        /** partition: the probe turns sent through the router inside the split while it was cut. */
        public List<MinorityProbe.Outcome> minority() {
            return minority;
        }

        /** partition: whether the cut-off worker was serving in the one cluster again after the heal. */
        public boolean rejoined() {
            return rejoined;
        }

        /** store-outage: when the store answered again (-1: not that scenario). */
        public double storeBackMs() {
            return storeBackMs;
        }

        synchronized void add(double atMs, String label) {
            events.add(new Event(atMs, label));
        }

        public synchronized List<Event> events() {
            return List.copyOf(events);
        }

        /** The moment that separates "before" from "during": the kill/stop/freeze, or the joiner being ready. */
        public double faultAtMs() {
            return faultAtMs;
        }

        /** When the cluster was safe again after the last step (-1: not seen). */
        public double safeAgainMs() {
            return safeAgainMs;
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether the scenario needs processes the drill started (their pids, their launch arguments). */
    public boolean needsOwnCluster() {
        return this != NONE;
    }

    /**
     * Runs the fault against {@code victim} and waits until the cluster is safe again.
     *
     * @param now      ms since the drill started
     * @param progress the current phase, for the progress line
     */
    public Timeline inject(LocalCluster cluster, String victim, Duration freezeFor, Duration restartAfter,
            StoreCommands store, Partition partition, LongSupplier nowNanos, long t0, Consumer<String> progress)
            throws IOException, InterruptedException {
        Timeline t = new Timeline();
        java.util.function.DoubleSupplier now = () -> (nowNanos.getAsLong() - t0) / 1e6;
        Duration safeWithin = Duration.ofSeconds(120);
        switch (this) {
            case KILL -> {
                t.faultAtMs = now.getAsDouble();
                cluster.kill(victim);
                t.add(t.faultAtMs, "kill -9 " + victim);
                progress.accept("killed " + victim + "; waiting for the cluster to be safe");
                cluster.awaitSafe(safeWithin);
            }
            case STOP -> {
                t.faultAtMs = now.getAsDouble();
                t.add(t.faultAtMs, "SIGTERM " + victim);
                progress.accept("stopping " + victim + " gracefully");
                int code = cluster.stop(victim, Duration.ofSeconds(60));
                t.add(now.getAsDouble(), victim + " exited (" + code + ")");
                progress.accept(victim + " stopped; waiting for the cluster to be safe");
                cluster.awaitSafe(safeWithin);
            }
            case RESTART -> {
                t.faultAtMs = now.getAsDouble();
                cluster.kill(victim);
                t.add(t.faultAtMs, "kill -9 " + victim);
                progress.accept("killed " + victim + "; waiting for the cluster to be safe before restarting it");
                cluster.awaitSafe(safeWithin);
                t.add(now.getAsDouble(), "cluster safe");
                double restartAt = t.faultAtMs + restartAfter.toMillis();
                long wait = (long) (restartAt - now.getAsDouble());
                if (wait > 0) {
                    Thread.sleep(wait);
                }
                progress.accept("restarting " + victim + " (same id and ports)");
                t.add(now.getAsDouble(), "start " + victim);
                cluster.restart(victim);
                t.add(now.getAsDouble(), victim + " back");
                progress.accept(victim + " is back; waiting for the cluster to be safe");
                cluster.awaitHealthy(cluster.workers().size(), safeWithin);
            }
            case JOIN -> {
                t.add(now.getAsDouble(), "start a new worker");
                progress.accept("starting a new worker");
                LocalCluster.Node joined = cluster.addWorker();
                t.faultAtMs = now.getAsDouble();
                t.add(t.faultAtMs, joined.id() + " joined");
                progress.accept(joined.id() + " joined; waiting for the cluster to be safe");
                cluster.awaitHealthy(cluster.workers().size(), safeWithin);
            }
            case FREEZE -> {
                t.faultAtMs = now.getAsDouble();
                cluster.pause(victim);
                t.add(t.faultAtMs, "SIGSTOP " + victim);
                progress.accept("froze " + victim + " (SIGSTOP) for " + freezeFor.toSeconds() + " s");
                Thread.sleep(freezeFor.toMillis());
                cluster.resume(victim);
                t.add(now.getAsDouble(), "SIGCONT " + victim);
                progress.accept("resumed " + victim + " (SIGCONT); waiting for the cluster to be safe");
                cluster.awaitSafe(safeWithin);
                t.add(now.getAsDouble(), "cluster safe");
                // The resumed member was removed from the cluster meanwhile; it merges back (split-brain merge)
                // and registers again. Wait for that, bounded: the report says whether it came back.
                progress.accept("waiting for " + victim + " to rejoin");
                try {
                    cluster.awaitHealthy(cluster.workers().size(), Duration.ofSeconds(60));
                    t.add(now.getAsDouble(), victim + " back");
                } catch (IOException e) {
                    t.add(now.getAsDouble(), victim + " not back within 60 s");
                }
            }
            case RESTART_ALL -> {
                t.faultAtMs = now.getAsDouble();
                cluster.killAll();
                t.add(t.faultAtMs, "kill -9 of every process (" + cluster.pids().size() + ")");
                progress.accept("killed every process; starting the cluster again on the same data");
                cluster.startAgain();
                t.add(now.getAsDouble(), "cluster back");
            }
            case STORE_OUTAGE -> {
                t.faultAtMs = now.getAsDouble();
                if (store.stop().isEmpty()) {
                    cluster.stopStore(false);
                } else {
                    store.run(store.stop(), "store stop");
                }
                t.add(t.faultAtMs, "store stopped");
                progress.accept("store stopped for " + freezeFor.toSeconds() + " s");
                Thread.sleep(freezeFor.toMillis());
                if (store.start().isEmpty()) {
                    cluster.restartStore();
                } else {
                    store.run(store.start(), "store start");
                }
                t.storeBackMs = now.getAsDouble();
                t.add(t.storeBackMs, "store back");
                progress.accept("store back; load running");
                cluster.awaitSafe(safeWithin);
            }
            case PARTITION -> {
                NetworkSplit split = partition.split();
                t.faultAtMs = now.getAsDouble();
                // The drill's probe client stays able to reach the router inside, as clients on its side would.
                split.cut(cluster.router(partition.insideRouter()).grpcPort());
                t.add(t.faultAtMs, "network cut: " + victim + " and router " + partition.insideRouter()
                        + " on one side, the rest on the other (the drill still reaches that router)");
                // The minority knows it is one once its members have removed the others (heartbeat timeout, then
                // Hazelcast's own confirmation): the router inside then lists the cut-off worker alone.
                progress.accept("network cut; waiting for router " + partition.insideRouter() + " to see "
                        + victim + " alone");
                LocalCluster.Node inside = cluster.router(partition.insideRouter());
                try {
                    cluster.awaitStatus(inside, s -> s.getWorkersCount() == 1
                            && s.getWorkers(0).getWorkerId().equals(victim), partition.noticedWithin(),
                            victim + " alone");
                    t.add(now.getAsDouble(), "router " + partition.insideRouter() + " sees " + victim + " alone");
                } catch (IOException e) {
                    t.add(now.getAsDouble(), "router " + partition.insideRouter() + " still lists other workers: "
                            + e.getMessage());
                }
                progress.accept("probing the minority through router " + partition.insideRouter());
                t.minority = partition.probe().get();
                for (MinorityProbe.Outcome o : t.minority) {
                    t.add(now.getAsDouble(), o.label());
                }
                long left = (long) (t.faultAtMs + partition.hold().toMillis() - now.getAsDouble());
                if (left > 0) {
                    progress.accept("network cut; load running on the majority");
                    Thread.sleep(left);
                }
                split.heal();
                t.add(now.getAsDouble(), "network healed");
                progress.accept("healed; waiting for " + victim + " to merge back");
                try {
                    cluster.awaitHealthy(cluster.workers().size(), Duration.ofSeconds(120));
                    t.add(now.getAsDouble(), victim + " back");
                } catch (IOException e) {
                    t.rejoined = false;
                    t.add(now.getAsDouble(), victim + " not back within 120 s");
                    cluster.awaitSafe(safeWithin);
                }
            }
            case NONE -> {
                return t;
            }
            default -> throw new IllegalStateException();
        }
        t.safeAgainMs = now.getAsDouble();
        t.add(t.safeAgainMs, "cluster safe");
        return t;
    }
}
