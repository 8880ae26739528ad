package dev.warmroute.cli;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.cluster.HazelcastSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The shared flags are picocli mixins: the Hazelcast block of worker, router and member, and the local-cluster block
 * of cluster up, drill, bench cluster and bench router. Each command keeps its own defaults, and the environment and
 * config-file defaults reach mixed-in flags as they reach a command's own.
 */
class FlagMixinsTest {

    @Test
    void eachLocalClusterCommandShowsItsOwnDefaultsForTheSharedFlags() {
        Map<String, String> kvDefaults = Map.of("cluster up", "256", "drill", "64", "bench cluster", "512",
                "bench router", "1024");
        for (var e : kvDefaults.entrySet()) {
            String[] args = (e.getKey() + " --help").split(" ");
            Result r = run(args);
            assertEquals(0, r.code(), e.getKey() + ": " + r.err());
            String help = r.out().replaceAll("\\s+", " ");
            assertTrue(help.contains("KV cache budget per worker (default " + e.getValue() + ")"), e.getKey() + ": "
                    + help);
            assertTrue(help.contains("--threads=N") && help.contains("--max-no-heartbeat-ms=MS"), help);
        }
    }

    @Test
    void theHazelcastFlagsAreTheSameOnWorkerRouterAndMember() {
        for (String command : List.of("worker", "router", "member")) {
            Result r = run(command, "--help");
            assertEquals(0, r.code(), command + ": " + r.err());
            for (String flag : List.of("--cluster-name", "--discovery", "--kubernetes-service-dns",
                    "--kubernetes-service-name", "--kubernetes-namespace", "--kubernetes-service-port",
                    "--heartbeat-ms", "--max-no-heartbeat-ms", "--members")) {
                assertTrue(r.out().contains(flag), command + " lacks " + flag + ":\n" + r.out());
            }
        }
        for (String command : List.of("worker", "member")) {
            Result r = run(command, "--help");
            for (String flag : List.of("--hazelcast-host", "--hazelcast-port", "--hazelcast-public-address",
                    "--backup-count", "--session-max-idle-hours")) {
                assertTrue(r.out().contains(flag), command + " lacks " + flag);
            }
        }
    }

    @Test
    void environmentAndConfigFileDefaultsReachMixedInFlags(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("warmroute.conf");
        Files.writeString(file, "member.backup-count = 2\n");
        CommandLine cli = Main.newCommandLine();
        cli.setDefaultValueProvider(ConfigDefaults.from(Map.of("WARMROUTE_MEMBER_CLUSTER_NAME", "from-env",
                "WARMROUTE_MEMBER_HEARTBEAT_MS", "250"), file));
        CommandLine.ParseResult parsed = cli.parseArgs("member", "--hazelcast-port", "0");
        MemberCommand member = (MemberCommand) parsed.subcommand().commandSpec().userObject();
        HazelcastSettings s = member.settings();
        assertEquals("from-env", s.clusterName());
        assertEquals(250, s.heartbeat().toMillis());
        assertEquals(2, s.backupCount());
        assertEquals(0, s.port());
    }
}
