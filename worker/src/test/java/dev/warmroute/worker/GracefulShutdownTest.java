package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.ReadyFile;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start and graceful stop: ready file and health SERVING once registered; on stop, health NOT_SERVING, the worker
 * leaves the registry, new turns get UNAVAILABLE, the running turn finishes, and the history stays whole on the
 * remaining member.
 */
class GracefulShutdownTest {

    @TempDir
    Path dir;

    private static HealthCheckResponse.ServingStatus health(ChatClient c) {
        return HealthGrpc.newBlockingStub(c.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(ChatServiceGrpc.SERVICE_NAME).build()).getStatus();
    }

    /** Waits until the worker's caches stop growing for a while with a turn in flight; returns their tokens. */
    static long awaitStalled(WorkerServer w, String session) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long last = -1;
        long stableSince = System.nanoTime();
        while (true) {
            long tokens = w.caches().tokensOf(session);
            if (tokens != last) {
                last = tokens;
                stableSince = System.nanoTime();
            } else if (System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(500)
                    && w.stats().getInFlight() == 1) {
                return tokens;
            }
            assertTrue(System.nanoTime() < deadline, "generation never paused");
            Thread.sleep(10);
        }
    }

    @Test
    void stopsServingNewTurnsLetsTheRunningOneFinishAndKeepsTheHistory() throws Exception {
        Path ready = dir.resolve("a.ready");
        // The cluster stops both workers at the end; the test itself stops a (close is idempotent).
        try (InProcessCluster<WorkerServer> cluster = TestWorkers.cluster()) {
            // A grace longer than the test's steps between the stop and the reader's resume: the running turn must
            // finish because the reader reads again, never because the grace ran out on a slow machine.
            WorkerServer a = TestWorkers.add(cluster, b -> b.readyFile(ready).shutdownGrace(Duration.ofSeconds(120)));
            WorkerServer b = TestWorkers.add(cluster);
            try (ChatClient toA = new ChatClient(a.address());
                 ChatClient toB = new ChatClient(b.address())) {
                Map<String, String> r = ReadyFile.read(ready);
                assertEquals(String.valueOf(a.port()), r.get("grpc_port"));
                assertEquals(a.workerId(), r.get("worker_id"));
                assertEquals(a.address(), r.get("worker_id"), "the id defaults to the advertised address");
                assertEquals(a.hazelcastAddress(), "127.0.0.1:" + r.get("hazelcast_port"));
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health(toA));
                assertTrue(b.hazelcast().getMap(ClusterMaps.WORKERS).containsKey(a.workerId()), "registered");

                for (int i = 0; i < 12; i++) {
                    toA.create("stop-" + i, "", ChatClient.greedy(6));
                    toA.ok(ChatClient.message("stop-" + i, "t0", "Hi " + i + "."));
                }
                // A long answer (greedy, up to 1000 tokens; the reference model's runs to about 320) read by a client
                // that stops reading after the first token: flow control holds the turn mid-answer, so the stop begins
                // while it runs.
                toA.create("long", "", ChatClient.greedy(1000));
                try (ChatClient slow = ChatClient.withWindow(a.address(), 1024)) {
                    ChatClient.Paused reader = slow.sendPaused(ChatClient.message("long", "l0", "Once upon a time"), 2);
                    long stalledTokens = awaitStalled(a, "long");
                    assertEquals(1, a.stats().getInFlight());

                    CompletableFuture<Void> closed = CompletableFuture.runAsync(a::close);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (health(toA) != HealthCheckResponse.ServingStatus.NOT_SERVING) {
                        assertTrue(System.nanoTime() < deadline, "health never went NOT_SERVING");
                        Thread.sleep(5);
                    }
                    ChatClient.Reply refused = toA.send(ChatClient.message("stop-0", "t1", "Still there?"));
                    assertEquals(Status.Code.UNAVAILABLE, refused.status().getCode(), refused.toString());
                    assertTrue(refused.status().getDescription().contains("shutting down"));
                    while (b.hazelcast().getMap(ClusterMaps.WORKERS).containsKey(a.workerId())) {
                        assertTrue(System.nanoTime() < deadline, "never deregistered");
                        Thread.sleep(5);
                    }
                    assertTrue(!closed.isDone(), "the stop waits for the running turn");

                    reader.resume();
                    ChatClient.Reply finished = reader.result().get(120, TimeUnit.SECONDS);
                    assertTrue(finished.ok(), "the running turn finished: " + finished);
                    var usage = finished.complete().getUsage();
                    assertTrue(stalledTokens < usage.getPromptTokens() + usage.getGeneratedTokens(),
                            "generation paused by backpressure at " + stalledTokens + ", before the end of the answer");
                    assertTrue(finished.deltas().size() > stalledTokens - usage.getPromptTokens(),
                            "every token was delivered");
                    closed.get(120, TimeUnit.SECONDS);
                }

                long left = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (b.hazelcast().getCluster().getMembers().size() != 1) {
                    assertTrue(System.nanoTime() < left, "the stopped member never left");
                    Thread.sleep(10);
                }
                for (int i = 0; i < 12; i++) {
                    assertEquals(1, toB.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("stop-" + i)
                            .build()).getTurnCount());
                }
                assertEquals(1, toB.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("long").build())
                        .getTurnCount(), "the turn that finished during the stop was committed");
            }
        }
    }
}
