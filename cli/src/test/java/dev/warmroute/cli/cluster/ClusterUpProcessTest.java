package dev.warmroute.cli.cluster;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.cli.Main;
import dev.warmroute.cluster.launch.JvmLauncher;
import dev.warmroute.testing.TestModel;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warmroute cluster up} as a user runs it: a real child process (the cli's Main in its own JVM) that starts a
 * router and workers as its own children. The test chats through it, reads its status, drains and undrains a worker,
 * then stops it the way a person does (SIGINT, i.e. Ctrl-C) and checks that every process it started is gone — and,
 * separately, that its children exit on their own when it is killed with -9.
 */
class ClusterUpProcessTest {

    /** Starts {@code cluster up} in its own JVM and waits for its ready file. */
    static JvmLauncher.ChildProcess clusterUp(Path dir, int workers) throws Exception {
        Path model = TestModel.path();
        List<String> args = List.of("cluster", "up", "--workers", String.valueOf(workers), "--port", "0", "--dir",
                dir.toString(), "--cluster-name", "up-" + UUID.randomUUID().toString().substring(0, 8), "--model",
                model.toString(), "--threads", "1", "--kv-cache-mb", "16", "--data", dir.resolve("data").toString());
        return JvmLauncher.start("cluster-up", Main.class.getName(), args, List.of("-Xmx256m"), Map.of(),
                dir.resolve("cluster-up.out"));
    }

    static List<Long> pids(Map<String, String> ready) {
        List<Long> pids = new ArrayList<>();
        pids.add(Long.parseLong(ready.get("router_pid")));
        Arrays.stream(ready.get("worker_pids").split(",")).map(Long::parseLong).forEach(pids::add);
        if (!ready.getOrDefault("store_pid", "").isEmpty()) {
            pids.add(Long.parseLong(ready.get("store_pid")));
        }
        return pids;
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    static void awaitGone(List<Long> pids, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline && pids.stream().anyMatch(ClusterUpProcessTest::alive)) {
            Thread.sleep(100);
        }
        for (long pid : pids) {
            assertFalse(alive(pid), "process " + pid + " is still running");
        }
    }

    @Test
    void clusterUpServesChatStatusAndDrainAndCtrlCLeavesNoProcess(@TempDir Path dir) throws Exception {
        JvmLauncher.ChildProcess up = clusterUp(dir, 3);
        List<Long> pids = List.of();
        try {
            Map<String, String> ready = up.awaitReady(dir.resolve("cluster.ready"), Duration.ofSeconds(240));
            pids = pids(ready);
            assertEquals(5, pids.size(), "router, 3 workers and the history store");
            String target = ready.get("router_address");
            String log = Files.readString(up.log());
            assertTrue(log.contains("model: " + TestModel.path() + " (given with --model)"), log);
            for (String column : List.of("role", "gRPC", "HTTP (OpenAI)", "Hazelcast", "pid", "log", "router", "w1",
                    "w2", "w3", "store")) {
                assertTrue(log.contains(column), "endpoint table lacks " + column + ":\n" + log);
            }
            // The OpenAI-compatible front is up beside the router (its clients are OpenAiFrontClusterTest's).
            String http = ready.get("router_http");
            assertTrue(http.startsWith("http://127.0.0.1:") && log.contains(http + "/v1/chat/completions"), log);
            var health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(http + "/health")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());

            // The README's second command, one turn.
            Result once = run("chat", "--target", target, "--session", "up-1", "--message", "Once upon a time",
                    "--max-tokens", "8", "--temperature", "0", "--json");
            assertEquals(0, once.code(), once.err());
            assertTrue(once.out().contains("\"cache\":\"cold\"") && once.out().contains("\"worker\":\"w"),
                    once.out());

            // The interactive form with piped input: streams, one line per turn, keeps the session.
            Result chat = interactive(target, "Hello there.\nWhat did the cat do?\n/history\n/quit\n");
            assertEquals(0, chat.code(), chat.err());
            assertTrue(chat.out().contains("you> Hello there."), chat.out());
            assertTrue(chat.out().contains("cold (new session) · 0 reused"), chat.out());
            assertTrue(chat.out().contains(" · warm · "), "the second turn is warm:\n" + chat.out());
            assertTrue(chat.out().contains(" 1 you: What did the cat do?"), "history lists turn 1:\n" + chat.out());

            Result status = run("status", "--target", target);
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("cluster safe: yes"), status.out());
            assertEquals(3, status.out().lines().filter(l -> l.matches("w[123] .*serving.*")).count(), status.out());

            Result drain = run("drain", "--target", target, "w2");
            assertEquals(0, drain.code(), drain.err());
            assertTrue(run("status", "--target", target).out().lines().anyMatch(l -> l.matches("w2 .*draining.*")));
            assertEquals(0, run("undrain", "--target", target, "w2").code());
            assertTrue(run("status", "--target", target).out().lines().anyMatch(l -> l.matches("w2 .*serving.*")));
            Result unknown = run("drain", "--target", target, "nobody");
            assertEquals(1, unknown.code());
            assertTrue(unknown.err().contains("NOT_FOUND"), unknown.err());

            // Ctrl-C. Where this test itself runs with SIGINT ignored (started by a shell without job control), so
            // does its child and no signal can change that: the start-up line says so, and SIGTERM stops it instead.
            boolean ignored = SignalDisposition.sigintIgnored();
            String signal = ignored ? "-TERM" : "-INT";
            Process kill = new ProcessBuilder("kill", signal, String.valueOf(up.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(up.process().waitFor(90, TimeUnit.SECONDS), "cluster up did not exit after kill " + signal);
            String out = Files.readString(up.log());
            assertEquals(ignored, out.contains("WARN: this process ignores SIGINT"), out);
            assertTrue(out.contains("no process left"), out);
            awaitGone(pids, Duration.ofSeconds(5));
        } finally {
            up.close();
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void childrenExitWhenClusterUpIsKilledWithSigkill(@TempDir Path dir) throws Exception {
        JvmLauncher.ChildProcess up = clusterUp(dir, 1);
        List<Long> pids = List.of();
        try {
            pids = pids(up.awaitReady(dir.resolve("cluster.ready"), Duration.ofSeconds(240)));
            assertTrue(pids.stream().allMatch(ClusterUpProcessTest::alive));
            up.kill(); // kill -9: no shutdown hook runs in cluster up
            awaitGone(pids, Duration.ofSeconds(60)); // ParentWatch in each child
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private static Result interactive(String target, String input) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return run("chat", "--target", target, "--max-tokens", "8", "--temperature", "0");
        } finally {
            System.setIn(saved);
        }
    }
}
