package dev.warmroute.cli.benchcluster;

import java.util.List;

/**
 * The seed's three ways of serving chat, each as a router mode plus worker flags, on the same engine and workers.
 */
enum Approach {
    /** Seed approach 1: any worker, full recompute every turn (round robin over {@code --stateless} workers). */
    STATELESS("stateless", "round-robin over --stateless workers: every turn recomputes its whole prompt",
            List.of("--stateless"), List.of("--placement", "round-robin")),
    /** Seed approach 2: sticky sessions by plain hashing, no load bound, no fallback. */
    STATEFUL("stateful", "plain session hashing (--placement hash): KV cache reuse, no load bound, no fallback",
            List.of(), List.of("--placement", "hash")),
    /** Seed approach 3, warmroute: bindings, rendezvous hash with a load bound, failover. */
    HYBRID("hybrid", "warmroute defaults: bindings + rendezvous hash + load bound 1.25 + failover",
            List.of(), List.of());

    final String label;
    final String description;
    final List<String> workerFlags;
    final List<String> routerFlags;

    Approach(String label, String description, List<String> workerFlags, List<String> routerFlags) {
        this.label = label;
        this.description = description;
        this.workerFlags = workerFlags;
        this.routerFlags = routerFlags;
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
