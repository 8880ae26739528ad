package dev.warmroute.cli.cluster;

import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.TurnStats;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cli.Json;
import dev.warmroute.cli.TextTable;
import dev.warmroute.cli.UserError;
import dev.warmroute.cluster.launch.AdminClient;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code warmroute status}: the router's AdminService status as a table (or JSON). */
@Command(name = "status", description = {
        "Show the cluster as a router sees it: every worker's health, breaker, turns in flight, sessions bound and",
        "warm-hit rate, and whether the cluster is safe (every backup in place: one more member may fail without",
        "losing history)."})
public final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--target", defaultValue = "127.0.0.1:7000", paramLabel = "HOST:PORT",
            description = "The router (default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--no-worker-stats", description = "Only what the router knows (no call to each worker).")
    boolean noWorkerStats;

    @Option(names = "--deadline-ms", defaultValue = "10000", description = "Deadline of the call (default ${DEFAULT-VALUE}).")
    long deadlineMs;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ClusterStatus s;
        try (AdminClient admin = new AdminClient(target)) {
            s = admin.status(!noWorkerStats, Duration.ofMillis(deadlineMs));
        } catch (StatusRuntimeException e) {
            throw AdminErrors.toUserError(e, target);
        }
        if (json) {
            out.println(toJson(s));
        } else {
            print(s, out);
        }
        return 0;
    }

    static String lower(Enum<?> e, String prefix) {
        String n = e.name();
        return (n.startsWith(prefix) ? n.substring(prefix.length()) : n).toLowerCase(Locale.ROOT);
    }

    /** warm / (warm + partial + cold) of a worker's committed turns, NaN when it has none. */
    static double warmRate(TurnStats t) {
        long n = t.getWarm() + t.getPartial() + t.getCold();
        return n == 0 ? Double.NaN : (double) t.getWarm() / n;
    }

    static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    static void print(ClusterStatus s, PrintWriter out) {
        double warmAll = s.getTurnsTotal() == 0 ? Double.NaN : (double) s.getTurnsWarm() / s.getTurnsTotal();
        out.printf(Locale.ROOT, "router %s: %d Hazelcast members, cluster safe: %s, load bound %.2f%n",
                s.getRouterId(), s.getClusterMembers(), s.getClusterSafe() ? "yes" : "NO (backups not in place)",
                s.getLoadBoundFactor());
        out.printf(Locale.ROOT, "sessions: %d stored, %d bound; turns: %d (warm %s, last minute %s), fallbacks %d,"
                        + " resumed %d, failed %d%n", s.getSessionsTotal(), s.getSessionsBound(), s.getTurnsTotal(),
                percent(warmAll), s.getTurnsTotal() == 0 ? "-" : percent(s.getWarmHitRate1M()),
                s.getTurnsFallback(), s.getTurnsResumed(), s.getTurnsFailed());
        out.println();
        TextTable t = new TextTable("worker", "address", "health", "breaker", "in-flight", "peak", "sessions",
                "routed", "failed", "warm-hit", "kv cache", "model");
        for (WorkerStatus w : s.getWorkersList()) {
            String cache = "-";
            String warm = "-";
            String model = "-";
            if (w.hasStats()) {
                var st = w.getStats();
                cache = String.format(Locale.ROOT, "%.1f/%.0f MiB, %d sessions", st.getKvCache().getBytesUsed() / 1048576.0,
                        st.getKvCache().getBytesBudget() / 1048576.0, st.getKvCache().getSessions());
                warm = percent(warmRate(st.getTurns()));
                model = st.getModelId() + (st.getModelSynthetic() ? " (synthetic)" : "") + ", "
                        + (st.getEngineVectorBits() == 0 ? "scalar kernels" : st.getEngineVectorBits() + "-bit kernels");
            }
            t.row(w.getWorkerId(), w.getAddress(), lower(w.getHealth(), "WORKER_HEALTH_"),
                    lower(w.getBreaker(), "BREAKER_STATE_"), w.getInFlight(), w.getPeakInFlight(),
                    w.getSessionsBound(), w.getTurnsRouted(), w.getTurnsFailed(), warm, cache, model);
        }
        if (s.getWorkersCount() == 0) {
            out.println("no worker registered");
        } else {
            t.print(out, "");
        }
        out.flush();
    }

    static Json toJson(ClusterStatus s) {
        List<Json> workers = new ArrayList<>();
        for (WorkerStatus w : s.getWorkersList()) {
            Json j = Json.object().put("worker_id", w.getWorkerId()).put("address", w.getAddress())
                    .put("health", lower(w.getHealth(), "WORKER_HEALTH_"))
                    .put("breaker", lower(w.getBreaker(), "BREAKER_STATE_")).put("in_flight", w.getInFlight())
                    .put("peak_in_flight", w.getPeakInFlight()).put("capacity", w.getCapacity())
                    .put("draining", w.getDraining()).put("sessions_bound", w.getSessionsBound())
                    .put("turns_routed", w.getTurnsRouted()).put("turns_failed", w.getTurnsFailed());
            if (w.hasStats()) {
                var st = w.getStats();
                j.put("warm_hit_rate", warmRate(st.getTurns())).put("model_id", st.getModelId())
                        .put("model_synthetic", st.getModelSynthetic())
                        .put("engine_vector_bits", st.getEngineVectorBits())
                        .put("kv_cache_bytes_used", st.getKvCache().getBytesUsed())
                        .put("kv_cache_bytes_budget", st.getKvCache().getBytesBudget())
                        .put("kv_cache_sessions", st.getKvCache().getSessions())
                        .put("turns_warm", st.getTurns().getWarm()).put("turns_partial", st.getTurns().getPartial())
                        .put("turns_cold", st.getTurns().getCold());
            }
            workers.add(j);
        }
        return Json.object().put("router_id", s.getRouterId()).put("cluster_members", s.getClusterMembers())
                .put("cluster_safe", s.getClusterSafe()).put("sessions_total", s.getSessionsTotal())
                .put("sessions_bound", s.getSessionsBound()).put("load_bound_factor", s.getLoadBoundFactor())
                .put("turns_total", s.getTurnsTotal()).put("turns_warm", s.getTurnsWarm())
                .put("turns_fallback", s.getTurnsFallback()).put("turns_resumed", s.getTurnsResumed())
                .put("turns_failed", s.getTurnsFailed()).put("warm_hit_rate_1m", s.getWarmHitRate1M())
                .put("workers", workers);
    }

    /** Turns a failed admin call into a one-line message (an unreachable router says where it looked). */
    static final class AdminErrors {
        private AdminErrors() {}

        static UserError toUserError(StatusRuntimeException e, String target) {
            var code = e.getStatus().getCode();
            String d = e.getStatus().getDescription();
            if (code == io.grpc.Status.Code.UNAVAILABLE && (d == null || d.contains("io exception")
                    || d.contains("Connection refused"))) {
                return new UserError("no router answers at " + target + " (--target); start one with"
                        + " 'warmroute cluster up'", 1);
            }
            return new UserError(dev.warmroute.cluster.tls.ClientTls.describe(e.getStatus()), 1);
        }
    }
}
