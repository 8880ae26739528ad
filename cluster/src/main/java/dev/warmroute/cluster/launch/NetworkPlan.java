package dev.warmroute.cluster.launch;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where the processes of a {@link LocalCluster} listen: every node on {@code host}, except the nodes named in
 * {@code inside}, which run inside {@code split}'s namespace on its inner address. The default is every node on
 * 127.0.0.1; the partition drill puts one worker and one router inside a {@link NetworkSplit}.
 *
 * @param host   the address every node outside binds (gRPC, Hazelcast, the store)
 * @param split  the split whose inside holds the {@code inside} nodes (null: none)
 * @param inside node ids (workers' "w3", routers' ids) started inside the split
 */
public record NetworkPlan(String host, NetworkSplit split, Set<String> inside) {

    public static final NetworkPlan LOOPBACK = new NetworkPlan("127.0.0.1", null, Set.of());

    public NetworkPlan {
        Objects.requireNonNull(host, "host");
        inside = Set.copyOf(inside);
        if (split == null && !inside.isEmpty()) {
            throw new IllegalArgumentException("network: nodes inside " + inside + " need a split");
        }
    }

    /** Every node on the split's outer address, the {@code inside} ones on its inner one. */
    public static NetworkPlan across(NetworkSplit split, Set<String> inside) {
        return new NetworkPlan(split.outsideHost(), split, inside);
    }

    public boolean isInside(String nodeId) {
        return split != null && inside.contains(nodeId);
    }

    /** The address node {@code nodeId} binds. */
    public String hostOf(String nodeId) {
        return isInside(nodeId) ? split.insideHost() : host;
    }

    /** What runs node {@code nodeId}'s JVM: nothing, or {@code ip netns exec NAME}. */
    public List<String> commandPrefix(String nodeId) {
        return isInside(nodeId) ? split.insidePrefix() : List.of();
    }
}
