package dev.warmroute.router;

import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The router's counters, kept once and read two ways: by {@code AdminService.GetClusterStatus} and by Prometheus
 * (callback metrics read the same adders, so the two never disagree).
 */
public final class RouterMetrics {

    final LongAdder turns = new LongAdder();
    final LongAdder warm = new LongAdder();
    final LongAdder fallback = new LongAdder();
    final LongAdder resumed = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder cancelled = new LongAdder();
    final LongAdder rebalanced = new LongAdder();
    final LongAdder shed = new LongAdder();
    private final TurnTime turnTime = new TurnTime();
    private final Counter sheds;
    private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
    private final RecentRate warmRate;
    private final Counter fallbacks;
    private final Counter errors;
    private final Counter attempts;
    private final Histogram overhead;

    /**
     * @param workers  the registered workers, read at scrape time for per-worker gauges
     * @param deferred rebalancing moves put off by the rate limit so far
     */
    public RouterMetrics(PrometheusRegistry registry, Supplier<Iterable<WorkerHandle>> workers, RecentRate warmRate,
            java.util.function.LongSupplier deferred) {
        this(registry, workers, warmRate, deferred, () -> 0);
    }

    /** @param breakerOpens breaker openings over all workers so far */
    public RouterMetrics(PrometheusRegistry registry, Supplier<Iterable<WorkerHandle>> workers, RecentRate warmRate,
            java.util.function.LongSupplier deferred, java.util.function.LongSupplier breakerOpens) {
        this.warmRate = warmRate;
        sheds = Counter.builder().name("warmroute_router_shed")
                .help("Turns refused with RESOURCE_EXHAUSTED and retry-after because the workers were full, by why: "
                        + "at_capacity (every worker at its advertised capacity), workers_full (the preferred worker "
                        + "and the one other tried refused the turn as full, or no other had room)")
                .labelNames("reason").register(registry);
        for (LoadShed.Reason r : LoadShed.Reason.values()) {
            sheds.labelValues(r.metric());
        }
        CounterWithCallback.builder().name("warmroute_router_breaker_opens")
                .help("Times a worker's breaker opened (UNAVAILABLE or DEADLINE_EXCEEDED; load never opens one)")
                .callback(cb -> cb.call(breakerOpens.getAsLong())).register(registry);
        CounterWithCallback.builder().name("warmroute_router_rebalanced_turns")
                .help("Turns that moved their session to a worker that joined and is now its hash's first choice")
                .callback(cb -> cb.call(rebalanced.sum())).register(registry);
        CounterWithCallback.builder().name("warmroute_router_rebalances_deferred")
                .help("Rebalancing moves put off to a later turn by --rebalance-rate (the session stayed warm)")
                .callback(cb -> cb.call(deferred.getAsLong())).register(registry);
        CounterWithCallback.builder().name("warmroute_router_turns").help("Turns this router handled, by outcome")
                .labelNames("outcome").callback(cb -> {
                    cb.call(warm.sum(), "warm");
                    cb.call(turns.sum() - warm.sum(), "not_warm");
                    cb.call(failed.sum(), "failed");
                    cb.call(cancelled.sum(), "cancelled");
                }).register(registry);
        CounterWithCallback.builder().name("warmroute_router_resumed_turns")
                .help("Turns continued on another worker after tokens had been streamed")
                .callback(cb -> cb.call(resumed.sum())).register(registry);
        fallbacks = Counter.builder().name("warmroute_router_fallbacks")
                .help("Turns not served by the preferred worker, by why it was skipped or failed")
                .labelNames("reason").register(registry);
        // The placement's reasons exist from the start (at zero), so dashboards and alerts see no gap before the first.
        for (PlacementDecision.SkipKind kind : PlacementDecision.SkipKind.values()) {
            fallbacks.labelValues(kind.name().toLowerCase(Locale.ROOT));
        }
        errors = Counter.builder().name("warmroute_router_turn_errors")
                .help("Turns that ended with an error sent to the client, by status code")
                .labelNames("code").register(registry);
        attempts = Counter.builder().name("warmroute_router_attempts")
                .help("Calls to workers for turns, by worker and result").labelNames("worker", "result")
                .register(registry);
        overhead = Histogram.builder().name("warmroute_router_overhead_seconds")
                .help("Time in the router before the serving worker was called (placement, binding, failed attempts)")
                .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5)
                .register(registry);
        GaugeWithCallback.builder().name("warmroute_router_in_flight").help("Turns running per worker")
                .labelNames("worker").callback(cb -> {
                    for (WorkerHandle h : workers.get()) {
                        cb.call(h.inFlight(), h.id());
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("warmroute_router_breaker_open")
                .help("1 when the worker's breaker refuses calls (open or forced open)").labelNames("worker")
                .callback(cb -> {
                    for (WorkerHandle h : workers.get()) {
                        var s = h.breaker().getState();
                        boolean open = s == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN
                                || s == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.FORCED_OPEN;
                        cb.call(open ? 1 : 0, h.id());
                    }
                }).register(registry);
        // vLLM's name for the same figure.
        GaugeWithCallback.builder().name("warmroute_router_num_requests_running")
                .help("Turns this router is relaying now")
                .callback(cb -> cb.call(running.get())).register(registry);
        GaugeWithCallback.builder().name("warmroute_router_warm_hit_rate_1m")
                .help("Share of this router's turns served warm over the last minute")
                .callback(cb -> cb.call(warmRate.rate())).register(registry);
    }

    /** A turn started (placed or not); {@link #turnEnded} follows exactly once. */
    void turnBegan() {
        running.incrementAndGet();
    }

    void turnEnded() {
        running.decrementAndGet();
    }

    /** Turns being relayed now (a graceful stop waits for them). */
    public int turnsRunning() {
        return running.get();
    }

    /** A turn completed. */
    void completed(boolean isWarm, boolean isFallback, boolean isResumed, boolean isRebalanced,
            double routerSeconds) {
        completed(isWarm, isFallback, isResumed, isRebalanced, routerSeconds, -1);
    }

    /** A turn completed after {@code turnSeconds} (arrival to its end; negative when unknown). */
    void completed(boolean isWarm, boolean isFallback, boolean isResumed, boolean isRebalanced,
            double routerSeconds, double turnSeconds) {
        if (turnSeconds >= 0) {
            turnTime.record(turnSeconds);
        }
        turns.increment();
        if (isRebalanced) {
            rebalanced.increment();
        }
        if (isWarm) {
            warm.increment();
        }
        if (isFallback) {
            fallback.increment();
        }
        if (isResumed) {
            resumed.increment();
        }
        warmRate.record(isWarm);
        if (routerSeconds >= 0) {
            overhead.observe(routerSeconds);
        }
    }

    /** A turn ended with an error sent to the client. */
    void failed(Status.Code code) {
        turns.increment();
        failed.increment();
        warmRate.record(false);
        errors.labelValues(code.name()).inc();
    }

    /** A turn was refused because the workers were full (also counted by {@link #failed}). */
    void shed(LoadShed.Reason reason) {
        shed.increment();
        sheds.labelValues(reason.metric()).inc();
    }

    public long turnsShed() {
        return shed.sum();
    }

    /** The retry-after hint: the recent turn time rounded up to whole seconds, {@code fallback} before any turn. */
    long retryAfterSeconds(long fallback) {
        return turnTime.retryAfterSeconds(fallback);
    }

    /** The client went away (cancelled or its deadline passed). */
    void cancelled() {
        cancelled.increment();
    }

    void fallback(PlacementDecision.SkipKind kind) {
        fallbacks.labelValues(kind.name().toLowerCase(Locale.ROOT)).inc();
    }

    void fallback(String reason) {
        fallbacks.labelValues(reason).inc();
    }

    void attempt(String worker, String result) {
        attempts.labelValues(worker, result).inc();
    }

    public long turnsTotal() {
        return turns.sum();
    }

    public long turnsWarm() {
        return warm.sum();
    }

    public long turnsFallback() {
        return fallback.sum();
    }

    public long turnsRebalanced() {
        return rebalanced.sum();
    }

    public long turnsResumed() {
        return resumed.sum();
    }

    public long turnsFailed() {
        return failed.sum();
    }

    public double warmHitRate1m() {
        return warmRate.rate();
    }
}
