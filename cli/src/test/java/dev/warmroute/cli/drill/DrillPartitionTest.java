package dev.warmroute.cli.drill;

import static dev.warmroute.cli.CliRun.run;
import static dev.warmroute.cli.drill.DrillJson.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.cluster.launch.NetworkSplit;
import dev.warmroute.testing.TestModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real split brain: three workers and two routers in their own JVMs, the third worker and the second router in a
 * network namespace of their own, cut off from the rest by dropping every packet across the veth pair for a while
 * under chat load (through the first router), then healed. The majority serves on without losing a turn; the
 * minority refuses the probe turns sent through its router with UNAVAILABLE; after the heal the cut-off worker merges
 * back and every session, the probes' too, has one history holding exactly its acknowledged turns.
 */
class DrillPartitionTest {

    @Test
    void aCutOffWorkerRefusesWritesAndMergesBackWithoutLosingOrDuplicatingATurn(@TempDir Path dir)
            throws Exception {
        String why = NetworkSplit.unavailableReason();
        Assumptions.assumeTrue(why == null, "no network split possible here: " + why);
        Path model = TestModel.path();
        Result r = run("drill", "--scenario", "partition", "--outage-seconds", "6", "--workers", "3",
                "--sessions", "4", "--turns", "4", "--think-ms", "300", "--max-tokens", "8", "--model",
                model.toString(), "--threads", "1", "--kv-cache-mb", "16", "--json", "--out", dir.toString());
        String json = r.out();
        assertEquals(0, r.code(), "drill failed:\n" + r.err() + json);
        assertEquals(0, number(json, "client_errors"), json);
        assertEquals(0, number(json, "lost_turns"), json);
        assertEquals(0, number(json, "duplicate_turns"), json);
        assertEquals(0, number(json, "answer_mismatches"), json);
        assertEquals(0, number(json, "minority_inconsistent_histories"), json);
        assertEquals(MinorityProbe.SESSIONS, number(json, "minority_refused"), "the minority refused: " + json);
        assertFalse(json.contains("\"acknowledged\":true"), json);
        assertTrue(json.contains("\"status\":\"UNAVAILABLE: "), json);
        assertTrue(json.contains("\"rejoined\":true"), json);
        assertTrue(json.contains("\"event\":\"network healed\""), json);
    }
}
