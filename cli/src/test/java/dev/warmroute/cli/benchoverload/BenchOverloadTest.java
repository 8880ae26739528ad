package dev.warmroute.cli.benchoverload;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.testing.TestModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench overload} for a few seconds on a real small cluster (three workers and a router in their own JVMs, the
 * router refusing what finds every worker full): what must hold on any machine, however loaded, at 10x the cluster's
 * capacity. Every refusal is RESOURCE_EXHAUSTED with a retry-after trailer, no other error reaches a client, no
 * breaker opens, no process dies, and every acknowledged turn is stored once with the answer the client received. How
 * fast is the benchmark's report (docs/benchmarks.md), not an assertion.
 */
class BenchOverloadTest {

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.]+)").matcher(json);
        assertTrue(m.find(), key + " missing in " + json);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void tenTimesCapacityIsRefusedWithResourceExhaustedAndRetryAfterWithoutBreakerOpensOrLostTurns(@TempDir Path dir)
            throws Exception {
        Path model = TestModel.path();
        Result r = run("bench", "overload", "--model", model.toString(), "--workers", "3", "--seconds", "4",
                "--unloaded-turns", "12", "--sessions", "40", "--max-tokens", "8", "--kv-cache-mb", "16", "--json",
                "--out", dir.toString());
        String json = r.out();
        assertEquals(0, r.code(), "bench failed:\n" + r.err() + json);
        assertEquals(3, number(json, "cluster_capacity"), "3 workers x capacity 1: " + json);
        assertTrue(number(json, "admitted") >= 1, json);
        double exhausted = number(json, "RESOURCE_EXHAUSTED");
        assertTrue(exhausted >= 1, "10x capacity offered: some turns are refused: " + json);
        Matcher refused = Pattern.compile("\"refused_by_status\":\\{([^}]*)\\}").matcher(json);
        assertTrue(refused.find(), json);
        assertEquals("\"RESOURCE_EXHAUSTED\":" + (long) exhausted, refused.group(1), "refusals are "
                + "RESOURCE_EXHAUSTED only: " + json);
        assertEquals(exhausted, number(json, "refusals_with_retry_after"), "each with retry-after: " + json);
        assertTrue(json.contains("cluster at capacity: 3 workers x capacity 1 turns in flight"), json);
        assertEquals(exhausted, number(json, "turns_shed"), "the router counted each refusal: " + json);
        assertEquals(0, number(json, "breaker_opens"), json);
        assertEquals(0, number(json, "other_errors"), json);
        assertEquals(0, number(json, "lost"), json);
        assertEquals(0, number(json, "duplicated"), json);
        assertEquals(0, number(json, "answer_mismatches"), json);
        assertEquals(0, number(json, "refused_but_stored"), json);
        assertEquals(0, number(json, "oom_lines"), json);
        assertTrue(json.contains("\"processes_alive\":\"4/4\""), json);
        assertTrue(Files.readString(dir.resolve("results.json")).strip().equals(json.strip()));
    }
}
