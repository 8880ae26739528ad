package dev.warmroute.cluster.store;

import dev.warmroute.cluster.session.SessionMergePolicy;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The store's figures on a member's Prometheus endpoint: whether it answers, its failures by kind, and what merges
 * after a split brain did (a divergence should never happen; alert on it).
 */
public final class StoreMetrics {

    private StoreMetrics() {}

    /** Registers the gauges and counters; {@code health} null: no store (memory only), reported as such. */
    public static void register(PrometheusRegistry registry, StoreHealth health) {
        GaugeWithCallback.builder().name("warmroute_store_up")
                .help("1 when the history store answers, 0 when it is down; -1: no store (history in memory only)")
                .callback(cb -> cb.call(health == null ? -1 : health.up() ? 1 : 0)).register(registry);
        CounterWithCallback.builder().name("warmroute_store_failures")
                .help("Failed store calls: transient (store away, turns get UNAVAILABLE) or deterministic (INTERNAL)")
                .labelNames("kind").callback(cb -> {
                    cb.call(health == null ? 0 : health.transientFailures(), "transient");
                    cb.call(health == null ? 0 : health.deterministicFailures(), "deterministic");
                }).register(registry);
        CounterWithCallback.builder().name("warmroute_session_merges")
                .help("Session entries merged after a split brain healed").callback(cb -> cb.call(
                        SessionMergePolicy.merged())).register(registry);
        CounterWithCallback.builder().name("warmroute_session_merge_divergences")
                .help("Merged sessions whose two sides held different turns (should stay 0 under the quorum)")
                .callback(cb -> cb.call(SessionMergePolicy.divergences())).register(registry);
    }
}
