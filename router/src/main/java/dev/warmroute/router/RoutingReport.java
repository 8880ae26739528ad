package dev.warmroute.router;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.RoutingInfo;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cluster.CallMetadata;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one turn says about its routing, in the three places a degraded turn must say so: the response
 * ({@link RoutingInfo} in TurnStarted and TurnComplete, the {@code x-warmroute-*} trailers), the log (one line per
 * event with the session id: {@code turn.fallback}, {@code turn.retry}, {@code turn.resume}, {@code turn.rebalance},
 * {@code turn.failed}, {@code turn.shed}, {@code turn.cancelled}) and the metrics. It also keeps the turn's failures so far, which
 * placement excludes.
 *
 * <p>Not thread-safe: the turn calls it under its monitor.
 */
final class RoutingReport {

    private static final Logger log = LoggerFactory.getLogger(RoutingReport.class);

    private final RouterEnv env;
    private final String sessionId;
    private final String requestId;
    /** The worker the first placement preferred (the binding's, or the hash's first choice). */
    private String preferred;
    private final List<String> attempted = new ArrayList<>();
    /** Workers passed over or failed this turn, with why: placement never tries them again for it. */
    private final Map<String, String> excluded = new LinkedHashMap<>();
    private String fallbackReason = "";
    private String lastFailedWorker = "";
    private boolean resumed;
    private int resumes;
    /** The worker the session left when the serving attempt was a rebalancing move ("" otherwise). */
    private String rebalancedFrom = "";
    private double routerMs = -1;
    private final long arrivalNanos;
    /** Workers that refused this turn as full (RESOURCE_EXHAUSTED before its first token), in order. */
    private final List<String> full = new ArrayList<>();

    RoutingReport(RouterEnv env, String sessionId, String requestId) {
        this(env, sessionId, requestId, System.nanoTime());
    }

    RoutingReport(RouterEnv env, String sessionId, String requestId, long arrivalNanos) {
        this.env = env;
        this.sessionId = sessionId;
        this.requestId = requestId;
        this.arrivalNanos = arrivalNanos;
        env.metrics().turnBegan();
    }

    /** A worker refused the turn as full before its first token; returns how many have this turn. */
    int refusedAsFull(String workerId) {
        full.add(workerId);
        return full.size();
    }

    int fullRefusals() {
        return full.size();
    }

    Map<String, String> excluded() {
        return excluded;
    }

    int attempts() {
        return attempted.size();
    }

    String lastFailedWorker() {
        return lastFailedWorker;
    }

    /** A placement of this turn; the first one says which worker was preferred and whether the turn falls back. */
    void placed(PlacementDecision d) {
        if (preferred != null) {
            return;
        }
        preferred = d.preferred();
        if (d.fallback()) {
            fallbackReason = d.preferredSkipReason();
            env.metrics().fallback(d.preferredSkipKind());
            log.info("turn.fallback session={} request={} preferred={} chosen={} reason=\"{}\"", sessionId, requestId,
                    preferred, d.chosen(), fallbackReason);
        }
    }

    /** The chosen worker refused the call (bulkhead full, breaker open): placement passes it over. */
    void refused(Admission.Refusal r) {
        excluded.put(r.workerId(), r.reason());
        if (r.workerId().equals(preferred) && fallbackReason.isEmpty()) {
            fallbackReason = r.reason();
            env.metrics().fallback(r.why().metric());
        }
    }

    /** An attempt starts on {@code workerId}. Returns the resume number when it continues a partial answer, else 0. */
    int attempting(String workerId, boolean resume) {
        attempted.add(workerId);
        return resume ? ++resumes : 0;
    }

    /** A worker accepted the turn (its TurnStarted); the first one fixes the router's own time. */
    void accepted(Relay relay, long arrivalNanos) {
        if (routerMs < 0) {
            routerMs = (relay.startNanos() - arrivalNanos) / 1e6;
        }
    }

    /** The binding moves to the worker that accepted the turn; a rebalancing move is said once. */
    void moved(Relay relay) {
        PlacementDecision d = relay.decision();
        String to = relay.worker().id();
        if (d.rebalanced() && to.equals(d.chosen())) {
            rebalancedFrom = d.rebalancedFrom();
            log.info("turn.rebalance session={} request={} from={} to={} (to its hash's first choice: a worker that "
                    + "joined after the session was bound, or the one it spilled from under load, now with room)",
                    sessionId, requestId, rebalancedFrom, to);
        }
    }

    /** An attempt ended; {@code failure} is null for success or cancellation. */
    void attemptEnded(WorkerHandle worker, String outcome, Status failure) {
        if (failure != null && FailurePolicy.countsAgainstWorker(failure.asRuntimeException())) {
            worker.countFailure();
        }
        env.metrics().attempt(worker.id(), outcome);
    }

    /** An attempt failed and the turn goes on to another worker: a retry, or a resume when tokens were sent. */
    void goingOn(String workerId, Status failure, boolean resume, int tokensSent) {
        String reason = describe(failure);
        excluded.put(workerId, reason);
        lastFailedWorker = workerId;
        if (workerId.equals(preferred) && fallbackReason.isEmpty()) {
            fallbackReason = reason;
            env.metrics().fallback(failure.getCode().name().toLowerCase(Locale.ROOT));
        }
        if (resume) {
            resumed = true;
            log.info("turn.resume session={} request={} failed_worker={} tokens_sent={} reason=\"{}\"", sessionId,
                    requestId, workerId, tokensSent, reason);
        } else {
            log.info("turn.retry session={} request={} failed_worker={} reason=\"{}\"", sessionId, requestId,
                    workerId, reason);
        }
    }

    /** The routing facts of TurnStarted and TurnComplete. */
    RoutingInfo routing(String servingWorker, long bindingEpoch) {
        boolean fallback = !servingWorker.equals(preferred);
        boolean rebalanced = rebalanced();
        return RoutingInfo.newBuilder().setRouterId(env.routerId()).setPreferredWorker(preferred)
                .addAllAttemptedWorkers(attempted).setFallback(fallback)
                .setFallbackReason(fallback || resumed ? fallbackReason : "").setResumed(resumed)
                .setBindingEpoch(bindingEpoch).setRouterMs(Math.max(0, routerMs)).setRebalanced(rebalanced)
                .setRebalancedFrom(rebalanced ? rebalancedFrom : "").setPlacement(env.router().mode().flag())
                .build();
    }

    private boolean rebalanced() {
        return !rebalancedFrom.isEmpty() && !resumed;
    }

    /** The turn completed on {@code servingWorker}: fills the client's trailers, counts, logs. */
    void succeeded(String servingWorker, TurnComplete complete, Metadata workerTrailers, Metadata trailers) {
        env.metrics().turnEnded();
        copy(workerTrailers, trailers, CallMetadata.WORKER);
        copy(workerTrailers, trailers, CallMetadata.CACHE);
        if (workerTrailers == null || !workerTrailers.containsKey(CallMetadata.WORKER)) {
            CallMetadata.setTrailer(trailers, CallMetadata.WORKER, complete.getWorkerId());
        }
        boolean fallback = !servingWorker.equals(preferred);
        if (fallback || resumed) {
            CallMetadata.setTrailer(trailers, CallMetadata.FALLBACK, preferred + " -> " + servingWorker + ": "
                    + fallbackReason + (resumed ? " (resumed after " + resumes + " failure(s))" : ""));
        }
        boolean warm = complete.getCache().getStatus() == CacheStatus.CACHE_STATUS_WARM;
        env.metrics().completed(warm, fallback, resumed, rebalanced(), routerMs / 1000.0,
                (System.nanoTime() - arrivalNanos) / 1e9);
        log.debug("turn.routed session={} request={} worker={} preferred={} attempts={} cache={} resumed={}",
                sessionId, requestId, servingWorker, preferred, attempted.size(), complete.getCache().getStatus(),
                resumed);
    }

    private static void copy(Metadata from, Metadata to, Metadata.Key<String> key) {
        if (from != null && from.containsKey(key)) {
            CallMetadata.setTrailer(to, key, from.get(key));
        }
    }

    /** The turn failed with {@code status}: counts, logs, and returns the error for the client with its trailers. */
    StatusRuntimeException failed(Status status, Metadata workerTrailers) {
        env.metrics().turnEnded();
        Metadata t = new Metadata();
        if (workerTrailers != null) {
            for (Metadata.Key<String> k : List.of(CallMetadata.WORKER, CallMetadata.CACHE)) {
                if (workerTrailers.containsKey(k)) {
                    t.put(k, workerTrailers.get(k));
                }
            }
        }
        if (!attempted.isEmpty() && (resumed || !excluded.isEmpty())) {
            t.put(CallMetadata.FALLBACK, CallMetadata.ascii("attempted " + String.join(",", attempted) + ": "
                    + failures()));
        }
        env.metrics().failed(status.getCode());
        log.info("turn.failed session={} request={} status={} message=\"{}\" attempted={}", sessionId, requestId,
                status.getCode(), status.getDescription(), attempted);
        return status.asRuntimeException(t);
    }

    /**
     * The turn is refused because the workers were full: RESOURCE_EXHAUSTED with retry-after ({@link LoadShed}),
     * counted as a failed turn and a shed one, logged once ({@code turn.shed}).
     */
    StatusRuntimeException shed(LoadShed.Reason reason) {
        env.metrics().turnEnded();
        env.metrics().failed(Status.Code.RESOURCE_EXHAUSTED);
        Metadata t = new Metadata();
        if (!attempted.isEmpty()) {
            t.put(CallMetadata.FALLBACK, CallMetadata.ascii("attempted " + String.join(",", attempted) + ": "
                    + failures()));
        }
        String detail = switch (full.size()) {
            case 0 -> "";
            case 1 -> full.getFirst() + " refused the turn as full and no other worker had room";
            default -> String.join(" and ", full) + " refused the turn as full";
        };
        return LoadShed.refuse(env, sessionId, requestId, reason, detail, t);
    }

    /** The client went away (cancelled, or its deadline passed). */
    void cancelled(int tokensSent) {
        env.metrics().turnEnded();
        env.metrics().cancelled();
        log.info("turn.cancelled session={} request={} attempted={} tokens_sent={}", sessionId, requestId, attempted,
                tokensSent);
    }

    /** "w1: why; w2: why" over the workers passed over or failed so far. */
    String failures() {
        StringBuilder sb = new StringBuilder();
        excluded.forEach((w, why) -> sb.append(sb.isEmpty() ? "" : "; ").append(w).append(": ").append(why));
        return sb.toString();
    }

    static String describe(Status s) {
        return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
    }
}
