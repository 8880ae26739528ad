package dev.warmroute.cli.drill;

import dev.warmroute.testing.TestModel;
import static dev.warmroute.cli.CliRun.run;
import static dev.warmroute.cli.drill.DrillJson.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun;
import dev.warmroute.cli.CliRun.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL stopped for 10 s under chat load, on a real cluster (router and workers in their own JVMs) and a real
 * PostgreSQL server ({@code .ci/postgres.sh}, which {@code .ci/run} starts). Turns that fail meanwhile are reported to
 * the client as UNAVAILABLE naming the store; none is acknowledged without being stored; the cluster serves again by
 * itself once the database is back (the seconds it took are in the drill's report, not asserted).
 */
class DrillStoreOutageTest {

    @Test
    void postgresStoppedUnderLoadFailsTurnsNamingTheStoreLosesNothingAndTheClusterServesAgain(@TempDir Path dir)
            throws Exception {
        String url = System.getenv(DrillRestartAllTest.POSTGRES_URL_ENV);
        String pgDir = System.getenv("WARMROUTE_TEST_POSTGRES_DIR");
        Path script = Path.of("..", ".ci", "postgres.sh").toAbsolutePath().normalize();
        Assumptions.assumeTrue(url != null && !url.isBlank() && pgDir != null && Files.isExecutable(script),
                "no PostgreSQL this test may stop: set " + DrillRestartAllTest.POSTGRES_URL_ENV
                        + " and WARMROUTE_TEST_POSTGRES_DIR (.ci/run starts one with .ci/postgres.sh)");
        Path model = TestModel.path();
        String schema = "outage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        Result r = run("drill", "--scenario", "store-outage", "--outage-seconds", "10", "--workers", "2",
                "--sessions", "4", "--turns", "6", "--think-ms", "300", "--max-tokens", "8", "--model",
                model.toString(), "--threads", "1", "--kv-cache-mb", "16", "--json", "--out", dir.toString(),
                "--store", url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema,
                "--store-stop-command", script + " stop " + pgDir,
                "--store-start-command", script + " start " + pgDir + " >/dev/null");
        String json = r.out();
        assertEquals(0, r.code(), "drill failed:\n" + r.err() + json);
        assertEquals(0, number(json, "lost_turns"), json);
        assertEquals(0, number(json, "duplicate_turns"), json);
        assertEquals(0, number(json, "answer_mismatches"), json);
        assertEquals(0, number(json, "unacknowledged_commits"), json);
        assertTrue(number(json, "failed_turns") >= 1, "turns failed while the store was down: " + json);
        assertEquals(number(json, "failed_turns"), number(json, "failed_turns_naming_store"),
                "every failed turn names the store: " + json);
        assertTrue(json.contains("PostgreSQL store"), json);
        assertTrue(number(json, "serving_again_after_s") >= 0, "served again after the store's return: " + json);
    }
}
