package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a worker JVM that owns history partitions: every acknowledged turn is still there (the backups on the
 * other member were promoted) and the other worker continues every session.
 */
class KillWorkerTest {

    @TempDir
    Path dir;

    private static List<com.hazelcast.nio.serialization.compact.CompactSerializer<?>> serializers() {
        List<com.hazelcast.nio.serialization.compact.CompactSerializer<?>> all =
                new ArrayList<>(SessionSerializers.all());
        all.add(new WorkerRegistration.Serializer());
        return all;
    }

    @Test
    void acknowledgedTurnsSurviveAKilledPartitionOwnerAndTheOtherWorkerContinues() throws Exception {
        // Two worker JVMs and no router: the test talks to each worker and watches the data through a client.
        try (TestCluster cluster = TestCluster.start(dir, 2, b -> b.noRouter())) {
            LocalCluster.Node w1 = cluster.worker("w1");
            LocalCluster.Node w2 = cluster.worker("w2");
            String seed1 = w1.hazelcastAddress();
            String seed2 = w2.hazelcastAddress();
            HazelcastInstance observer = HazelcastFactory.startClient(HazelcastSettings.builder()
                    .clusterName(cluster.name()).members(List.of(seed1, seed2)).mode(HazelcastSettings.Mode.CLIENT)
                    .build(), "kill-test-observer", serializers());
            try (ChatClient c1 = new ChatClient(w1.grpcAddress());
                 ChatClient c2 = new ChatClient(w2.grpcAddress())) {
                assertTrue(HazelcastFactory.awaitConnected(observer, Duration.ofSeconds(30)));
                List<String> sessions = new ArrayList<>();
                List<List<String>> acknowledged = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    String id = "kill-" + i;
                    c2.create(id, "", ChatClient.greedy(8));
                    List<String> answers = new ArrayList<>();
                    answers.add(c1.ok(ChatClient.message(id, "t0", "Hello number " + i + ".")).complete().getText());
                    answers.add(c2.ok(ChatClient.message(id, "t1", "And then?")).complete().getText());
                    sessions.add(id);
                    acknowledged.add(answers);
                }
                String w1Uuid = ((WorkerRegistration) observer.getMap(ClusterMaps.WORKERS).get(w1.ready().get("worker_id")))
                        .memberUuid();
                long ownedByW1 = sessions.stream().filter(id -> observer.getPartitionService().getPartition(id)
                        .getOwner().getUuid().toString().equals(w1Uuid)).count();
                assertTrue(ownedByW1 > 0, "some sessions must live on the worker we kill");

                cluster.kill("w1");
                assertFalse(w1.isAlive());

                for (int i = 0; i < sessions.size(); i++) {
                    Session s = c2.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(sessions.get(i))
                            .setIncludeMessages(true).build());
                    assertEquals(2, s.getTurnCount(), sessions.get(i));
                    assertEquals(acknowledged.get(i).get(0), s.getMessages(1).getContent());
                    assertEquals(acknowledged.get(i).get(1), s.getMessages(3).getContent());
                    ChatClient.Reply next = c2.ok(ChatClient.message(sessions.get(i), "t2", "What next?"));
                    assertEquals(3, next.complete().getVersion());
                }
                System.out.println("sessions owned by the killed worker: " + ownedByW1 + " of " + sessions.size());
            } finally {
                observer.shutdown();
            }
            assertTrue(Files.exists(w2.log()));
        }
    }
}
