package dev.warmroute.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestModel;
import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The image as deployed: two worker containers and a router container on a Docker network, finding each other with
 * Hazelcast's Kubernetes discovery by DNS (the network alias {@code workers} resolves to every worker, as a headless
 * service does), and one conversation through the router's published port. The answer must equal what a worker in
 * this JVM computes for the same turn: the image runs the same engine.
 *
 * <p>Skipped where no Docker engine runs (CI machines without one) and where the image was not built
 * ({@code deploy/build-images.sh --load}); everything checked here is also checked with local processes
 * (RouterClusterTest, HazelcastDiscoveryTest).
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerClusterTest {

    static final String IMAGE = System.getProperty("warmroute.image", "warmroute:latest");
    static final String MODEL_IN_CONTAINER = "/models/model.gguf";

    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private Network network;

    @AfterEach
    void stop() throws IOException {
        Path logs = Path.of("target", "container-logs");
        Files.createDirectories(logs);
        for (GenericContainer<?> c : containers) {
            try {
                String alias = c.getNetworkAliases().isEmpty() ? "container" : c.getNetworkAliases().get(0);
                Files.writeString(logs.resolve(alias + "-" + c.getContainerId().substring(0, 12) + ".log"),
                        c.getLogs());
            } catch (RuntimeException ignored) {
                // never started
            }
            c.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void routesAConversationThroughContainersThatFoundEachOtherByServiceDns() throws Exception {
        Path model = TestModel.path();
        assumeTrue(imagePresent(), "image " + IMAGE + " not in the local Docker engine: build it with"
                + " deploy/build-images.sh --load (or pass -Dwarmroute.image=NAME:TAG)");
        network = Network.newNetwork();
        for (String id : List.of("worker-0", "worker-1")) {
            GenericContainer<?> worker = new GenericContainer<>(DockerImageName.parse(IMAGE))
                    .withNetwork(network).withNetworkAliases(id, "workers")
                    .withCopyFileToContainer(MountableFile.forHostPath(model, 0644), MODEL_IN_CONTAINER)
                    .withCommand("worker")
                    .withEnv("WARMROUTE_WORKER_HOST", "0.0.0.0")
                    .withEnv("WARMROUTE_WORKER_PORT", "7100")
                    .withEnv("WARMROUTE_WORKER_WORKER_ID", id)
                    .withEnv("WARMROUTE_WORKER_ADVERTISE_ADDRESS", id + ":7100")
                    .withEnv("WARMROUTE_WORKER_HAZELCAST_HOST", "0.0.0.0")
                    .withEnv("WARMROUTE_WORKER_DISCOVERY", "kubernetes")
                    .withEnv("WARMROUTE_WORKER_KUBERNETES_SERVICE_DNS", "workers")
                    .withEnv("WARMROUTE_WORKER_CLUSTER_NAME", "tc")
                    .withEnv("WARMROUTE_WORKER_MODEL", MODEL_IN_CONTAINER)
                    .withEnv("WARMROUTE_WORKER_THREADS", "1")
                    .withEnv("WARMROUTE_WORKER_KV_CACHE_MB", "16")
                    .withEnv("WARMROUTE_JAVA_OPTS", "-Xmx512m")
                    .waitingFor(Wait.forLogMessage(".*worker\\.ready.*", 1)
                            .withStartupTimeout(Duration.ofMinutes(3)));
            containers.add(worker);
            worker.start();
        }
        GenericContainer<?> router = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withNetwork(network).withNetworkAliases("router")
                .withCommand("router")
                .withEnv("WARMROUTE_ROUTER_HOST", "0.0.0.0")
                .withEnv("WARMROUTE_ROUTER_PORT", "7000")
                .withEnv("WARMROUTE_ROUTER_ROUTER_ID", "router-tc")
                .withEnv("WARMROUTE_ROUTER_DISCOVERY", "kubernetes")
                .withEnv("WARMROUTE_ROUTER_KUBERNETES_SERVICE_DNS", "workers")
                .withEnv("WARMROUTE_ROUTER_CLUSTER_NAME", "tc")
                .withEnv("WARMROUTE_JAVA_OPTS", "-Xmx256m")
                .withExposedPorts(7000)
                // The image's own health check command: SERVING once the router reached the cluster.
                .waitingFor(Wait.forSuccessfulCommand("warmroute health --target 127.0.0.1:7000")
                        .withStartupTimeout(Duration.ofMinutes(2)));
        containers.add(router);
        router.start();
        String target = router.getHost() + ":" + router.getMappedPort(7000);

        ClusterStatus status = awaitWorkersServing(target, 2, Duration.ofSeconds(90));
        assertEquals(2, status.getClusterMembers(), "both workers joined one Hazelcast cluster: " + status);

        SamplingParams greedy = ChatClient.sampling(0, 7, 16);
        String session = "tc-" + UUID.randomUUID().toString().substring(0, 8);
        ChatClient.Reply first;
        ChatClient.Reply second;
        try (ChatClient client = new ChatClient(target)) {
            client.create(session, greedy);
            first = client.ok(ChatClient.message(session, "t1", "Once upon a time"));
            second = client.ok(ChatClient.message(session, "t2", "And then?"));
        }
        assertEquals(1, first.complete().getVersion());
        assertEquals(2, second.complete().getVersion());
        assertEquals(first.complete().getWorkerId(), second.complete().getWorkerId(), "the session stays put");
        assertTrue(first.complete().getWorkerId().startsWith("worker-"), first.complete().getWorkerId());
        assertEquals(CacheStatus.CACHE_STATUS_WARM, second.complete().getCache().getStatus(), "turn 2 is warm");
        assertFalse(second.complete().getRouting().getFallback());

        // The same two turns on a worker in this JVM: the container computes exactly what a local process does.
        String[] local = localAnswers(model, greedy);
        assertEquals(local[0], first.complete().getText());
        assertEquals(local[1], second.complete().getText());
    }

    private static ClusterStatus awaitWorkersServing(String target, int n, Duration within) throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            long deadline = System.nanoTime() + within.toNanos();
            ClusterStatus last = null;
            while (System.nanoTime() < deadline) {
                try {
                    last = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
                    long serving = last.getWorkersList().stream()
                            .filter(w -> w.getHealth() == dev.warmroute.api.v1.WorkerHealth.WORKER_HEALTH_SERVING)
                            .count();
                    if (serving >= n) {
                        return last;
                    }
                } catch (io.grpc.StatusRuntimeException e) {
                    // the router is still connecting
                }
                Thread.sleep(250);
            }
            throw new AssertionError(n + " workers not serving within " + within.toSeconds() + " s; last status: "
                    + last);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static String[] localAnswers(Path model, SamplingParams greedy) throws Exception {
        try (InProcessCluster<WorkerServer> local = new InProcessCluster<>("tc-local", WorkerServer::hazelcastAddress)) {
            WorkerServer worker = local.add((name, seeds) -> WorkerServer.start(WorkerConfig.builder().port(0)
                    .model(model).engineThreads(1).kvCacheMb(16)
                    .hazelcast(HazelcastSettings.builder().clusterName(name).port(0).members(seeds).build()).build()));
            try (ChatClient client = new ChatClient(worker.address())) {
                client.create("local", greedy);
                String a = client.ok(ChatClient.message("local", "t1", "Once upon a time")).complete().getText();
                String b = client.ok(ChatClient.message("local", "t2", "And then?")).complete().getText();
                return new String[] {a, b};
            }
        }
    }

    private static boolean imagePresent() {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(IMAGE).exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
