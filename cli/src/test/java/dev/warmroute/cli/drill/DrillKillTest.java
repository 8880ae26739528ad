package dev.warmroute.cli.drill;

import static dev.warmroute.cli.CliRun.run;
import static dev.warmroute.cli.drill.DrillJson.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.testing.TestModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one drill CI runs, kept short: three real workers and a router in their own JVMs, four sessions, kill -9 of
 * the worker holding the most sessions in the middle. What must hold on any machine, however loaded: no client saw an
 * error, the stored histories hold every acknowledged turn exactly once with the answer the client received, and the
 * killed worker's sessions moved. (Latency targets are the drill's report, not assertions: see docs/benchmarks.md.)
 */
class DrillKillTest {

    @Test
    void killingTheBusiestWorkerMidLoadLosesAndDuplicatesNothingAndNoClientSeesAnError(@TempDir Path dir)
            throws Exception {
        Path model = TestModel.path();
        Result r = run("drill", "--scenario", "kill", "--workers", "3", "--sessions", "4", "--turns", "4",
                "--think-ms", "300", "--max-tokens", "8", "--model", model.toString(), "--threads", "1",
                "--kv-cache-mb", "16", "--json", "--out", dir.toString());
        String json = r.out();
        assertEquals(0, r.code(), "drill failed:\n" + r.err() + json);
        assertEquals(0, number(json, "client_errors"), json);
        assertEquals(0, number(json, "lost_turns"), json);
        assertEquals(0, number(json, "duplicate_turns"), json);
        assertEquals(0, number(json, "answer_mismatches"), json);
        assertTrue(number(json, "turns_total") >= 16, json);
        int victimSessions = (int) number(json, "victim_sessions");
        assertTrue(victimSessions >= 1, "the busiest of 3 workers held at least one of 4 sessions: " + json);
        assertTrue(number(json, "sessions_moved") >= victimSessions, "the killed worker's sessions moved: " + json);
        assertTrue(json.contains("\"event\":\"kill -9 w"), json);
        assertTrue(Files.size(dir.resolve("chart.svg")) > 0 && Files.size(dir.resolve("turns.jsonl")) > 0);
        assertTrue(Files.readString(dir.resolve("drill.json")).strip().equals(json.strip()));
    }
}
