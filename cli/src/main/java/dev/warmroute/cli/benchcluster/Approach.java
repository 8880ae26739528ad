package dev.warmroute.cli.benchcluster;

import dev.warmroute.router.PlacementMode;

/**
 * The seed's three ways of serving chat, each as a router placement mode plus a worker mode, on the same engine and
 * workers.
 */
enum Approach {
    /** Seed approach 1: any worker, full recompute every turn (round robin over {@code --stateless} workers). */
    STATELESS("stateless", "round-robin over --stateless workers: every turn recomputes its whole prompt",
            true, PlacementMode.ROUND_ROBIN),
    /** Seed approach 2: sticky sessions by plain hashing, no load bound, no fallback. */
    STATEFUL("stateful", "plain session hashing (--placement hash): KV cache reuse, no load bound, no fallback",
            false, PlacementMode.HASH),
    /** Seed approach 3, warmroute: bindings, rendezvous hash with a load bound, failover. */
    HYBRID("hybrid", "warmroute defaults: bindings + rendezvous hash + load bound 1.25 + failover",
            false, PlacementMode.HYBRID);

    final String label;
    final String description;
    final boolean statelessWorkers;
    final PlacementMode placement;

    Approach(String label, String description, boolean statelessWorkers, PlacementMode placement) {
        this.label = label;
        this.description = description;
        this.statelessWorkers = statelessWorkers;
        this.placement = placement;
    }

    static Approach parse(String s) {
        for (Approach a : values()) {
            if (a.label.equalsIgnoreCase(s.strip())) {
                return a;
            }
        }
        throw new IllegalArgumentException("--approaches: each of stateless, stateful, hybrid, got '" + s + "'");
    }
}
