package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.HazelcastSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The discovery flags of a worker (the model only has to be a file: toConfig does not load it). */
class WorkerOptionsTest {

    @TempDir
    Path dir;

    private WorkerConfig parse(String... args) throws Exception {
        Path model = Files.writeString(dir.resolve("m.gguf"), "x");
        WorkerOptions options = new WorkerRole().newOptions();
        String[] all = new String[args.length + 2];
        all[0] = "--model";
        all[1] = model.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        new CommandLine(options).parseArgs(all);
        return options.toConfig();
    }

    @Test
    void tcpIpWithSeedsIsTheDefault() throws Exception {
        HazelcastSettings hz = parse("--members", "10.0.0.1:5701").hazelcast();
        assertEquals(HazelcastSettings.Discovery.TCP_IP, hz.discovery());
        assertEquals(List.of("10.0.0.1:5701"), hz.members());
    }

    @Test
    void kubernetesDiscoveryInAPodBindsAllInterfaces() throws Exception {
        HazelcastSettings hz = parse("--discovery", "kubernetes", "--kubernetes-service-name", "warmroute-workers",
                "--kubernetes-namespace", "chat", "--hazelcast-host", "0.0.0.0").hazelcast();
        assertEquals(HazelcastSettings.Discovery.KUBERNETES, hz.discovery());
        assertEquals(new HazelcastSettings.Kubernetes("", "warmroute-workers", "chat", 0), hz.kubernetes());
        assertTrue(hz.bindsAnyAddress());
    }

    @Test
    void seedsAndKubernetesDiscoveryDoNotMix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("--discovery",
                "kubernetes", "--kubernetes-service-dns", "w.ns.svc", "--members", "10.0.0.1:5701"));
        assertTrue(e.getMessage().startsWith("members:"), e.getMessage());
    }
}
