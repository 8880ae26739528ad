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
import dev.warmroute.cluster.JvmLauncher;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.session.SessionSerializers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a worker JVM that owns history partitions: every acknowledged turn is still there (the backups on the
 * other member were promoted) and the other worker continues every session.
 */
class KillWorkerTest {

    @TempDir
    Path dir;

    private JvmLauncher.ChildProcess launch(String name, String cluster, String seeds) throws Exception {
        Path ready = dir.resolve(name + ".ready");
        List<String> args = new ArrayList<>(List.of("--port", "0", "--hazelcast-port", "0", "--cluster-name", cluster,
                "--model", TestWorkers.referenceModelOrSkip().toString(), "--threads", "1", "--kv-cache-mb", "16",
                "--ready-file", ready.toString(), "--parent-pid", String.valueOf(ProcessHandle.current().pid())));
        if (!seeds.isEmpty()) {
            args.addAll(List.of("--members", seeds));
        }
        return JvmLauncher.start(name, WorkerMain.class.getName(), args, List.of("-Xmx256m"), Map.of(),
                dir.resolve(name + ".log"));
    }

    private static List<com.hazelcast.nio.serialization.compact.CompactSerializer<?>> serializers() {
        List<com.hazelcast.nio.serialization.compact.CompactSerializer<?>> all =
                new ArrayList<>(SessionSerializers.all());
        all.add(new WorkerRegistration.Serializer());
        return all;
    }

    @Test
    void acknowledgedTurnsSurviveAKilledPartitionOwnerAndTheOtherWorkerContinues() throws Exception {
        String cluster = TestWorkers.clusterName();
        try (JvmLauncher.ChildProcess w1 = launch("w1", cluster, "")) {
            Map<String, String> r1 = w1.awaitReady(dir.resolve("w1.ready"), Duration.ofSeconds(90));
            String seed1 = "127.0.0.1:" + r1.get("hazelcast_port");
            try (JvmLauncher.ChildProcess w2 = launch("w2", cluster, seed1)) {
                Map<String, String> r2 = w2.awaitReady(dir.resolve("w2.ready"), Duration.ofSeconds(90));
                String seed2 = "127.0.0.1:" + r2.get("hazelcast_port");
                HazelcastInstance observer = HazelcastFactory.startClient(HazelcastSettings.builder()
                        .clusterName(cluster).members(List.of(seed1, seed2)).mode(HazelcastSettings.Mode.CLIENT)
                        .build(), "kill-test-observer", serializers());
                try (ChatClient c1 = new ChatClient(r1.get("address"));
                     ChatClient c2 = new ChatClient(r2.get("address"))) {
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
                    String w1Uuid = ((WorkerRegistration) observer.getMap(ClusterMaps.WORKERS).get(r1.get("worker_id")))
                            .memberUuid();
                    long ownedByW1 = sessions.stream().filter(id -> observer.getPartitionService().getPartition(id)
                            .getOwner().getUuid().toString().equals(w1Uuid)).count();
                    assertTrue(ownedByW1 > 0, "some sessions must live on the worker we kill");

                    w1.kill();
                    assertFalse(w1.isAlive());

                    for (int i = 0; i < sessions.size(); i++) {
                        Session s = c2.blocking.getSession(GetSessionRequest.newBuilder().setSessionId(sessions.get(i))
                                .setIncludeMessages(true).build());
                        assertEquals(2, s.getTurnCount(), sessions.get(i));
                        assertEquals(acknowledged.get(i).get(0), s.getMessages(1).getContent());
                        assertEquals(acknowledged.get(i).get(1), s.getMessages(3).getContent());
                        ChatClient.Turn next = c2.ok(ChatClient.message(sessions.get(i), "t2", "What next?"));
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
}
