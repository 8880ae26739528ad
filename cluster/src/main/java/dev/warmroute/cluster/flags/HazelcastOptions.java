package dev.warmroute.cluster.flags;

import dev.warmroute.cluster.DiscoveryFlags;
import dev.warmroute.cluster.HazelcastSettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The Hazelcast flags every process of a cluster takes alike (worker, router, standalone member): the cluster's name,
 * how to find it ({@code --discovery tcp|kubernetes} and the Kubernetes flags) and the failure detector. A picocli
 * mixin ({@code @Mixin HazelcastOptions hazelcast}), so the flags, their defaults and their help are written once.
 * {@code --members} stays with each command: a router must be given seeds, a worker or member may start alone.
 */
public final class HazelcastOptions {

    @Option(names = "--cluster-name", defaultValue = "warmroute",
            description = "Hazelcast cluster name (default ${DEFAULT-VALUE}).")
    public String clusterName;

    @Option(names = "--discovery", defaultValue = "tcp", paramLabel = "tcp|kubernetes",
            description = "How to find the Hazelcast cluster: tcp (the --members seeds, default) or kubernetes"
                    + " (Hazelcast's Kubernetes discovery: --kubernetes-service-dns or --kubernetes-service-name).")
    public String discovery;

    @Option(names = "--kubernetes-service-dns", defaultValue = "", paramLabel = "NAME",
            description = "Kubernetes discovery by DNS: the headless service of the members, e.g."
                    + " warmroute-workers.default.svc.cluster.local.")
    public String kubernetesServiceDns;

    @Option(names = "--kubernetes-service-name", defaultValue = "", paramLabel = "NAME",
            description = "Kubernetes discovery through the API (needs RBAC to read endpoints): the service's name.")
    public String kubernetesServiceName;

    @Option(names = "--kubernetes-namespace", defaultValue = "", paramLabel = "NS",
            description = "Namespace of --kubernetes-service-name (default: the pod's own).")
    public String kubernetesNamespace;

    @Option(names = "--kubernetes-service-port", defaultValue = "0", paramLabel = "PORT",
            description = "Hazelcast port behind the service (default 0: this member's --hazelcast-port, or 5701).")
    public int kubernetesServicePort;

    @Option(names = "--heartbeat-ms", defaultValue = "1000",
            description = "Hazelcast heartbeat of members and clients (default ${DEFAULT-VALUE}).")
    public long heartbeatMs;

    @Option(names = "--max-no-heartbeat-ms", defaultValue = "5000",
            description = "A member or client connection silent this long is dropped (default ${DEFAULT-VALUE}).")
    public long maxNoHeartbeatMs;

    /** True with {@code --discovery kubernetes}: the members are found through the service, not seeds. */
    public boolean kubernetes() {
        return DiscoveryFlags.parse(discovery) == HazelcastSettings.Discovery.KUBERNETES;
    }

    /**
     * Sets the cluster name, the failure detector and the discovery on {@code builder}; IllegalArgumentException
     * naming the flag for a bad combination ({@link DiscoveryFlags#apply}).
     */
    public HazelcastSettings.Builder applyTo(HazelcastSettings.Builder builder) {
        builder.clusterName(clusterName).heartbeat(Duration.ofMillis(heartbeatMs))
                .maxNoHeartbeat(Duration.ofMillis(maxNoHeartbeatMs));
        return DiscoveryFlags.apply(builder, discovery, kubernetesServiceDns, kubernetesServiceName,
                kubernetesNamespace, kubernetesServicePort);
    }
}
