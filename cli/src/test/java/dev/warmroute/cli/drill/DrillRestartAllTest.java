package dev.warmroute.cli.drill;

import dev.warmroute.testing.TestModel;
import static dev.warmroute.cli.CliRun.run;
import static dev.warmroute.cli.drill.DrillJson.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun;
import dev.warmroute.cli.CliRun.Result;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full restart: kill -9 of every process of a real cluster (router, workers and, on H2, the store's own process) in
 * the middle of a chat load, then everything again on the same data. Every acknowledged turn must be in the store
 * afterwards, exactly once, and every session must go on where it was (the next turn's version = its turns + 1).
 * Clients retry UNAVAILABLE with the same request ids while nothing serves, as a real client must.
 */
class DrillRestartAllTest {

    static final String POSTGRES_URL_ENV = "WARMROUTE_TEST_POSTGRES_URL";

    @Test
    void everyAcknowledgedTurnSurvivesAKillOfEveryProcessOnH2(@TempDir Path dir) throws Exception {
        assertRestartKeepsEverything(dir, List.of());
    }

    @Test
    void everyAcknowledgedTurnSurvivesAKillOfEveryProcessOnPostgres(@TempDir Path dir) throws Exception {
        String url = System.getenv(POSTGRES_URL_ENV);
        Assumptions.assumeTrue(url != null && !url.isBlank(), "no PostgreSQL for this test: set " + POSTGRES_URL_ENV
                + " (.ci/run starts one with .ci/postgres.sh)");
        String schema = "drill_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        assertRestartKeepsEverything(dir, List.of("--store", url + (url.contains("?") ? "&" : "?")
                + "currentSchema=" + schema));
    }

    private static void assertRestartKeepsEverything(Path dir, List<String> store) throws Exception {
        Path model = TestModel.path();
        List<String> args = new ArrayList<>(List.of("drill", "--scenario", "restart-all", "--workers", "2",
                "--sessions", "4", "--turns", "4", "--think-ms", "300", "--max-tokens", "8", "--model",
                model.toString(), "--threads", "1", "--kv-cache-mb", "16", "--json", "--out", dir.toString()));
        args.addAll(store);
        Result r = run(args.toArray(String[]::new));
        String json = r.out();
        assertEquals(0, r.code(), "drill failed:\n" + r.err() + json);
        assertEquals(0, number(json, "client_errors"), json);
        assertEquals(0, number(json, "lost_turns"), json);
        assertEquals(0, number(json, "duplicate_turns"), json);
        assertEquals(0, number(json, "answer_mismatches"), json);
        assertEquals(4, number(json, "sessions_continued"), "every session went on after the restart: " + json);
        assertTrue(json.contains("\"event\":\"kill -9 of every process"), json);
        assertTrue(json.contains("\"event\":\"cluster back\""), json);
    }
}
