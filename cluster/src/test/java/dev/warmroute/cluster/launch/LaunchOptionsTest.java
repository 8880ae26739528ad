package dev.warmroute.cluster.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launchers' own rules: which routers a local cluster gets, and how an in-JVM cluster joins and stops. */
class LaunchOptionsTest {

    @TempDir
    Path dir;

    private LocalClusterOptions.Builder builder() throws IOException {
        return LocalClusterOptions.builder(Files.writeString(dir.resolve("m.gguf"), "x"), dir);
    }

    @Test
    void oneRouterByDefaultTheGivenOnesOtherwiseOrNone() throws Exception {
        assertEquals(List.of(new LocalClusterOptions.RouterSpec("router", List.of())), builder().build().routers());
        LocalClusterOptions two = builder().routerPort(0).router("r1").router("r2", "--worker-window-kb", "1").build();
        assertEquals(List.of("r1", "r2"), two.routers().stream().map(LocalClusterOptions.RouterSpec::id).toList());
        assertEquals(List.of("--worker-window-kb", "1"), two.routers().get(1).extraArgs());
        assertTrue(builder().noRouter().build().routers().isEmpty());
    }

    @Test
    void severalRoutersNeedOsPickedPortsAndIdsOfTheirOwn() {
        IllegalArgumentException fixed = assertThrows(IllegalArgumentException.class,
                () -> builder().router("r1").router("r2").build());
        assertTrue(fixed.getMessage().startsWith("routers: more than one router needs port 0"), fixed.getMessage());
        IllegalArgumentException same = assertThrows(IllegalArgumentException.class,
                () -> builder().routerPort(0).router("r").router("r").build());
        assertTrue(same.getMessage().startsWith("routers: ids must differ"), same.getMessage());
        IllegalArgumentException placement = assertThrows(IllegalArgumentException.class,
                () -> builder().placement(" ").build());
        assertTrue(placement.getMessage().startsWith("placement:"), placement.getMessage());
    }

    /** A stand-in server that records its seeds and its stop; the launcher under test is InProcessCluster itself. */
    record Probe(String cluster, List<String> seeds, String address, List<String> stopped, boolean failOnClose)
            implements AutoCloseable {
        @Override
        public void close() {
            stopped.add(address);
            if (failOnClose) {
                throw new IllegalStateException("cannot stop " + address);
            }
        }
    }

    @Test
    void laterServersJoinTheEarlierOnesAndStopFirstEvenWhenOneFailsToStop() throws Exception {
        List<String> stopped = new ArrayList<>();
        InProcessCluster<Probe> c = new InProcessCluster<>("probe", Probe::address);
        assertTrue(c.name().startsWith("probe-") && c.name().length() == "probe-".length() + 8, c.name());
        Probe a = c.add((name, seeds) -> new Probe(name, seeds, "a:1", stopped, false));
        Probe b = c.add((name, seeds) -> new Probe(name, seeds, "b:2", stopped, true));
        Probe client = c.add((name, seeds) -> new Probe(name, seeds, "", stopped, false));
        Probe d = c.add((name, seeds) -> new Probe(name, seeds, "d:4", stopped, false));
        assertEquals(List.of(), a.seeds(), "the first is the seed");
        assertEquals(List.of("a:1"), b.seeds());
        assertEquals(List.of("a:1", "b:2"), d.seeds(), "a Hazelcast client (no address) is nobody's seed");
        assertEquals(c.name(), client.cluster());
        IllegalStateException e = assertThrows(IllegalStateException.class, c::close);
        assertEquals(List.of("d:4", "", "b:2", "a:1"), stopped, "last started first, and past the failure");
        assertTrue(e.getMessage().contains(c.name()), e.getMessage());
        assertTrue(c.servers().isEmpty());
    }
}
