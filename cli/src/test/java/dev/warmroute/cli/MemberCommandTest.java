package dev.warmroute.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.launch.JvmLauncher;
import dev.warmroute.testing.TestModel;
import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warmroute member} as its own JVM, the only data member of the cluster, and a worker in client mode in this
 * JVM: every session write is an entry processor that runs on the member, so a turn committing (and the next one
 * seeing the stored history) shows the member carries warmroute's classes, serializers and map configs.
 */
class MemberCommandTest {

    @TempDir
    Path dir;

    @Test
    void clientModeWorkerCommitsTurnsThroughAStandaloneMember() throws Exception {
        Path model = TestModel.path();
        String cluster = "member-" + UUID.randomUUID().toString().substring(0, 8);
        Path ready = dir.resolve("member.ready");
        Path logs = Path.of("target", "cluster-logs");
        try (JvmLauncher.ChildProcess member = JvmLauncher.start("member", Main.class.getName(),
                List.of("member", "--hazelcast-port", "0", "--cluster-name", cluster, "--ready-file",
                        ready.toString(), "--parent-pid", String.valueOf(ProcessHandle.current().pid())),
                List.of("-Xmx256m"), Map.of(), logs.resolve("member-command-test.log"))) {
            Map<String, String> r = member.awaitReady(ready, Duration.ofSeconds(90));
            assertEquals("member", r.get("role"));
            String address = r.get("hazelcast_address");

            WorkerServer worker = WorkerServer.start(WorkerConfig.builder().port(0).model(model).engineThreads(1)
                    .kvCacheMb(8).hazelcast(HazelcastSettings.builder().clusterName(cluster)
                            .mode(HazelcastSettings.Mode.CLIENT).members(List.of(address)).build()).build());
            try {
                assertEquals(1, worker.hazelcast().getCluster().getMembers().size(), "the member is the only one");
                CliRun.Result first = CliRun.run("chat", "--target", worker.address(), "--session", "m-1",
                        "--message", "Hello.", "--max-tokens", "6", "--temperature", "0", "--json");
                assertEquals(0, first.code(), first.err() + "\nmember log:\n" + member.tail(30));
                assertTrue(first.out().contains("\"version\":1"), first.out());
                CliRun.Result second = CliRun.run("chat", "--target", worker.address(), "--session", "m-1",
                        "--message", "And then?", "--max-tokens", "6", "--temperature", "0", "--json");
                assertEquals(0, second.code(), second.err());
                assertTrue(second.out().contains("\"version\":2"), second.out());
                assertEquals(1, worker.hazelcast().getMap("sessions").size(), "the session lives on the member");
            } finally {
                worker.close();
            }
            member.stop(Duration.ofSeconds(30));
            assertTrue(member.tail(40).contains("member.stopped"), member.tail(40));
        }
    }
}
