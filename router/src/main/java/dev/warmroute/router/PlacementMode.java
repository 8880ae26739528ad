package dev.warmroute.router;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the router picks a worker (flag {@code --placement}). {@link #HYBRID} is warmroute; the other two are the
 * seed's baselines, served by the same router and workers so that {@code bench cluster} compares like with like.
 */
public enum PlacementMode {
    /** Bindings, rendezvous hash, load bound, failover and resume, rebalancing on join: warmroute (default). */
    HYBRID("hybrid", true),
    /**
     * Plain session hashing (the seed's "stateful server, sticky routing"): the rendezvous hash over the registered
     * workers, no binding, no load bound, no fallback. When the session's worker fails, its turns fail; once the
     * worker has left the registry, its sessions hash to another worker (cold there).
     */
    HASH("hash", false),
    /**
     * Each turn to the next serving worker in turn (the seed's "stateless server"): meant for workers in
     * {@code --stateless} mode, where any worker computes any turn from the stored history.
     */
    ROUND_ROBIN("round-robin", false);

    private final String flag;
    private final boolean bindings;

    PlacementMode(String flag, boolean bindings) {
        this.flag = flag;
        this.bindings = bindings;
    }

    /** The name used by the flag, the logs, RoutingInfo.placement and ClusterStatus.placement_mode. */
    public String flag() {
        return flag;
    }

    /** True when sessions have bindings (read before placing, written when they move). */
    public boolean usesBindings() {
        return bindings;
    }

    /** Parses a flag value; IllegalArgumentException naming the flag and the choices. */
    public static PlacementMode parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        for (PlacementMode m : values()) {
            if (m.flag.equals(v) || m.name().equalsIgnoreCase(v)) {
                return m;
            }
        }
        throw new IllegalArgumentException("placement: must be one of "
                + Arrays.stream(values()).map(PlacementMode::flag).collect(Collectors.joining(", ")) + ", got '"
                + value + "'");
    }

    @Override
    public String toString() {
        return flag;
    }
}
