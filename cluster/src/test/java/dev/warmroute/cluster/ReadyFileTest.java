package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.launch.JvmLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadyFileTest {

    @Test
    void roundTripsStringsWithQuotesAndNumbers(@TempDir Path dir) throws Exception {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("role", "worker");
        values.put("grpc_port", 41234);
        values.put("note", "say \"hi\" \\ bye");
        Path f = dir.resolve("ready.json");
        ReadyFile.write(f, values);
        Map<String, String> back = ReadyFile.read(f);
        assertEquals("worker", back.get("role"));
        assertEquals("41234", back.get("grpc_port"));
        assertEquals("say \"hi\" \\ bye", back.get("note"));
    }

    /** A real child JVM: it gets our classpath and flags, writes its ready file, and is killed. */
    @Test
    void aChildJvmBecomesReadyAndCanBeKilled(@TempDir Path dir) throws Exception {
        Path ready = dir.resolve("child.ready");
        try (var child = JvmLauncher.start("child", ReadyChild.class.getName(), List.of(ready.toString()),
                List.of("-Xmx64m"), Map.of(), dir.resolve("child.log"))) {
            Map<String, String> info = child.awaitReady(ready, Duration.ofSeconds(60));
            assertEquals(String.valueOf(child.pid()), info.get("pid"));
            assertTrue(child.isAlive());
            child.kill();
            assertTrue(!child.isAlive());
        }
    }

    @Test
    void aChildThatExitsEarlyIsReportedWithItsLog(@TempDir Path dir) throws Exception {
        try (var child = JvmLauncher.start("bad", "no.such.MainClass", List.of(), List.of(), Map.of(),
                dir.resolve("bad.log"))) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> child.awaitReady(dir.resolve("never"), Duration.ofSeconds(60)));
            assertTrue(e.getMessage().contains("exited with code"), e.getMessage());
            assertTrue(e.getMessage().contains("no.such.MainClass"), e.getMessage());
        }
    }

    /**
     * A child started by a parent that is then killed with -9 exits by itself: the grandchild (ReadyChild with a
     * parent watch) watches the middle JVM, which we kill.
     */
    @Test
    void aChildExitsWhenItsParentIsKilled(@TempDir Path dir) throws Exception {
        Path ready = dir.resolve("grandchild.ready");
        try (var middle = JvmLauncher.start("middle", MiddleParent.class.getName(),
                List.of(ready.toString(), dir.resolve("grandchild.log").toString()), List.of("-Xmx64m"), Map.of(),
                dir.resolve("middle.log"))) {
            Map<String, String> info = middle.awaitReady(ready, Duration.ofSeconds(60));
            ProcessHandle grandchild = ProcessHandle.of(Long.parseLong(info.get("pid"))).orElseThrow();
            assertTrue(grandchild.isAlive());
            middle.kill();
            grandchild.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(!grandchild.isAlive());
        }
    }

    /** Starts a watched ReadyChild and waits. */
    public static final class MiddleParent {
        public static void main(String[] args) throws Exception {
            JvmLauncher.start("grandchild", ReadyChild.class.getName(),
                    List.of(args[0], String.valueOf(ProcessHandle.current().pid())), List.of("-Xmx64m"), Map.of(),
                    Path.of(args[1]));
            Thread.sleep(120_000);
        }
    }

    /** Main class of the child JVM in {@link #aChildJvmBecomesReadyAndCanBeKilled}. */
    public static final class ReadyChild {
        public static void main(String[] args) throws Exception {
            if (args.length > 1) {
                ParentWatch.exitWhenGone(Long.parseLong(args[1]));
            }
            ReadyFile.write(Path.of(args[0]), Map.of("pid", ProcessHandle.current().pid()));
            Thread.sleep(120_000);
        }
    }
}
