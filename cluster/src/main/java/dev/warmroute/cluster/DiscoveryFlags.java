package dev.warmroute.cluster;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The discovery flags workers, routers and standalone members share ({@code --discovery tcp|kubernetes},
 * {@code --kubernetes-service-dns}, {@code --kubernetes-service-name}, {@code --kubernetes-namespace},
 * {@code --kubernetes-service-port}), turned into settings in one place so that every command reads them alike.
 */
public final class DiscoveryFlags {

    private DiscoveryFlags() {}

    /** {@code tcp} (or {@code tcp-ip}) or {@code kubernetes} (or {@code k8s}); IllegalArgumentException names the flag. */
    public static HazelcastSettings.Discovery parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "", "tcp", "tcp-ip", "tcp_ip" -> HazelcastSettings.Discovery.TCP_IP;
            case "kubernetes", "k8s" -> HazelcastSettings.Discovery.KUBERNETES;
            default -> throw new IllegalArgumentException("discovery: tcp or kubernetes, got '" + value + "'");
        };
    }

    /**
     * The {@code --members} seeds: comma-separated {@code host:port}, blanks dropped (HazelcastSettings checks each
     * address); null or blank: none.
     */
    public static List<String> seeds(String members) {
        return members == null || members.isBlank() ? List.of()
                : Arrays.stream(members.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * Sets discovery on the builder: TCP-IP leaves the seeds as they are; Kubernetes needs exactly one of the service
     * DNS name or the service name. Kubernetes flags without {@code --discovery kubernetes} are refused, so a
     * half-configured deployment fails at start instead of forming a cluster of one.
     */
    public static HazelcastSettings.Builder apply(HazelcastSettings.Builder builder, String discovery,
            String serviceDns, String serviceName, String namespace, int servicePort) {
        HazelcastSettings.Discovery mode = parse(discovery);
        boolean anyK8sFlag = !blank(serviceDns) || !blank(serviceName) || !blank(namespace) || servicePort != 0;
        if (mode == HazelcastSettings.Discovery.TCP_IP) {
            if (anyK8sFlag) {
                throw new IllegalArgumentException("kubernetes-service-dns/-name/-namespace/-port: only with"
                        + " --discovery kubernetes");
            }
            return builder.discovery(mode).kubernetes(null);
        }
        return builder.kubernetesDiscovery(new HazelcastSettings.Kubernetes(serviceDns, serviceName, namespace,
                servicePort));
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
