package dev.warmroute.worker;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.TurnStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The worker's counters, kept once and read two ways: by {@code WorkerService.GetWorkerStats} and by Prometheus
 * (callback metrics read the same adders), so the two can never disagree.
 */
public final class WorkerMetrics {

    final LongAdder warm = new LongAdder();
    final LongAdder partial = new LongAdder();
    final LongAdder cold = new LongAdder();
    final LongAdder replayed = new LongAdder();
    final LongAdder resumed = new LongAdder();
    final LongAdder aborted = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder tokensReused = new LongAdder();
    final LongAdder tokensComputed = new LongAdder();
    final LongAdder tokensGenerated = new LongAdder();
    final LongAdder windowCuts = new LongAdder();
    private final Histogram ttft;
    private final io.prometheus.metrics.core.metrics.Counter notWarm;

    /**
     * Registers the metrics in {@code registry}.
     *
     * @param kvBytes    bytes held by session caches now
     * @param kvSessions sessions with a cache now
     * @param evictions  sessions evicted since start
     * @param inFlight   turns running now
     * @param queued     turns waiting for a slot now
     * @param stateless  the worker runs in stateless mode (no KV cache kept between turns)
     */
    public WorkerMetrics(PrometheusRegistry registry, DoubleSupplier kvBytes, DoubleSupplier kvSessions,
            DoubleSupplier evictions, DoubleSupplier inFlight, DoubleSupplier queued, boolean stateless) {
        CounterWithCallback.builder().name("warmroute_worker_turns").help("Turns by outcome")
                .labelNames("outcome").callback(cb -> {
                    cb.call(warm.sum(), "warm");
                    cb.call(partial.sum(), "partial");
                    cb.call(cold.sum(), "cold");
                    cb.call(replayed.sum(), "replayed");
                    cb.call(resumed.sum(), "resumed");
                    cb.call(aborted.sum(), "aborted");
                    cb.call(failed.sum(), "failed");
                }).register(registry);
        CounterWithCallback.builder().name("warmroute_worker_tokens").help("Prompt tokens reused and computed, "
                + "answer tokens generated").labelNames("kind").callback(cb -> {
                    cb.call(tokensReused.sum(), "reused");
                    cb.call(tokensComputed.sum(), "computed");
                    cb.call(tokensGenerated.sum(), "generated");
                }).register(registry);
        CounterWithCallback.builder().name("warmroute_worker_window_cuts").help("Prompt window pruning cuts")
                .callback(cb -> cb.call(windowCuts.sum())).register(registry);
        CounterWithCallback.builder().name("warmroute_worker_kv_evictions")
                .help("Sessions evicted from the KV cache to stay within its byte budget")
                .callback(cb -> cb.call(evictions.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_kv_bytes").help("Bytes held by session KV caches")
                .callback(cb -> cb.call(kvBytes.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_kv_sessions").help("Sessions with a KV cache")
                .callback(cb -> cb.call(kvSessions.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_in_flight").help("Turns computing now")
                .callback(cb -> cb.call(inFlight.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_queued").help("Turns waiting for a compute slot")
                .callback(cb -> cb.call(queued.getAsDouble())).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_stateless")
                .help("1 when the worker keeps no KV cache between turns (--stateless: every turn computes its whole "
                        + "prompt)").callback(cb -> cb.call(stateless ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name("warmroute_worker_engine_vector_bits")
                .help("Vector width of the engine's kernels in bits (512, 256, 128; 0 = scalar kernels)")
                .callback(cb -> cb.call(dev.warmroute.engine.tensor.VectorWidth.CURRENT.bits())).register(registry);
        notWarm = io.prometheus.metrics.core.metrics.Counter.builder().name("warmroute_worker_not_warm_turns")
                .help("Committed turns that did not reuse the whole cache, by cache status and reason (e.g. "
                        + "cold/stateless, cold/no_cache, partial/window_cut)")
                .labelNames("status", "reason").register(registry);
        ttft = Histogram.builder().name("warmroute_worker_ttft_seconds")
                .help("Time from a turn's arrival to its first token, by cache outcome").labelNames("cache")
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
                .register(registry);
    }

    /** A computed turn (not a replay) that committed. */
    void turnCompleted(CacheStatus status, dev.warmroute.api.v1.CacheReason reason, boolean resumedTurn, int reused,
            int computed, int generated, double ttftMs, boolean cut) {
        switch (status) {
            case CACHE_STATUS_WARM -> warm.increment();
            case CACHE_STATUS_PARTIAL -> partial.increment();
            default -> cold.increment();
        }
        if (status != CacheStatus.CACHE_STATUS_WARM) {
            notWarm.labelValues(status.name().substring("CACHE_STATUS_".length()).toLowerCase(java.util.Locale.ROOT),
                    reason.name().substring("CACHE_REASON_".length()).toLowerCase(java.util.Locale.ROOT)).inc();
        }
        if (resumedTurn) {
            resumed.increment();
        }
        tokensReused.add(reused);
        tokensComputed.add(computed);
        tokensGenerated.add(generated);
        if (cut) {
            windowCuts.increment();
        }
        ttft.labelValues(status.name().substring("CACHE_STATUS_".length()).toLowerCase(java.util.Locale.ROOT))
                .observe(ttftMs / 1000.0);
    }

    void replay() {
        replayed.increment();
    }

    void aborted() {
        aborted.increment();
    }

    void failed() {
        failed.increment();
    }

    TurnStats turnStats() {
        return TurnStats.newBuilder().setWarm(warm.sum()).setPartial(partial.sum()).setCold(cold.sum())
                .setReplayed(replayed.sum()).setResumed(resumed.sum()).setAborted(aborted.sum())
                .setFailed(failed.sum()).setTokensReused(tokensReused.sum()).setTokensComputed(tokensComputed.sum())
                .setTokensGenerated(tokensGenerated.sum()).setWindowCuts(windowCuts.sum()).build();
    }
}
