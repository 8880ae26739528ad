package dev.warmroute.cluster.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * The databases the store tests run on: H2 in a file (always) and PostgreSQL when {@code .ci/run} (or a developer)
 * started one and named it in {@value #POSTGRES_URL_ENV}. Each PostgreSQL test gets a schema of its own.
 */
final class TestStores {

    /** JDBC URL of a PostgreSQL server for tests, e.g. {@code jdbc:postgresql://127.0.0.1:5433/warmroute?user=u}. */
    static final String POSTGRES_URL_ENV = "WARMROUTE_TEST_POSTGRES_URL";

    private TestStores() {}

    static StoreSettings h2(Path dir) {
        return StoreSettings.embeddedH2(dir);
    }

    /** A fresh schema on the test server; skips the test (with where to get one) when there is none. */
    static StoreSettings postgres() throws SQLException {
        String url = System.getenv(POSTGRES_URL_ENV);
        Assumptions.assumeTrue(url != null && !url.isBlank(), "no PostgreSQL for this test: set " + POSTGRES_URL_ENV
                + " (.ci/run starts one with .ci/postgres.sh)");
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return StoreSettings.of(url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema, "", "");
    }

    static StoreSettings of(String kind, Path dir) throws SQLException {
        return kind.equals("postgres") ? postgres() : h2(dir);
    }
}
