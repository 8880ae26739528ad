package dev.warmroute.cluster.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database behind the {@code sessions} map: a HikariCP pool over JDBC and the schema, which the program creates
 * and versions itself with Flyway ({@code classpath:dev/warmroute/cluster/store/migration/h2|postgresql}: one SQL
 * file per version and database). Every member opens one; they all share the database.
 *
 * <p>Why HikariCP: the pool most JDBC users run, small and kept up, with the two knobs that matter on a Hazelcast
 * partition thread: how long to wait for a connection ({@code connectionTimeout}) and a validation that notices a
 * restarted database. Why Flyway (and not Liquibase): migrations are plain SQL files per version, which reviewers
 * read as they are, with a checksummed history table; no XML or YAML changelog format to learn.
 */
public final class SessionDatabase implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SessionDatabase.class);

    /** Flyway's history table: names the schema version a database has. */
    public static final String HISTORY_TABLE = "warmroute_schema_history";

    private final StoreSettings settings;
    private final HikariDataSource pool;

    private SessionDatabase(StoreSettings settings, HikariDataSource pool) {
        this.settings = settings;
        this.pool = pool;
    }

    /**
     * Opens the pool and brings the schema to the current version. Fails (StoreUnavailableException naming the store)
     * when the database cannot be reached: a member without its store must not start and accept turns it cannot keep.
     */
    public static SessionDatabase open(StoreSettings settings) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(settings.url());
        if (!settings.user().isEmpty()) {
            c.setUsername(settings.user());
        }
        c.setPassword(settings.password());
        c.setMaximumPoolSize(settings.poolSize());
        c.setMinimumIdle(1);
        c.setConnectionTimeout(settings.connectTimeout().toMillis());
        c.setValidationTimeout(Math.max(250, Math.min(settings.connectTimeout().toMillis(), 1000)));
        // A store that is down at start is reported by migrate() below, with the store's name, not by the pool.
        c.setInitializationFailTimeout(-1);
        c.setPoolName("warmroute-store");
        c.setAutoCommit(false);
        if (settings.postgres()) {
            // Without these, a statement on a connection whose server vanished (a host gone, a frozen server) waits
            // for TCP to give up: minutes on a partition thread.
            c.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, settings.connectTimeout().toSeconds())));
            c.addDataSourceProperty("socketTimeout", String.valueOf(settings.queryTimeout().toSeconds() + 2));
            c.addDataSourceProperty("tcpKeepAlive", "true");
            c.addDataSourceProperty("ApplicationName", "warmroute");
        }
        HikariDataSource pool = new HikariDataSource(c);
        SessionDatabase db = new SessionDatabase(settings, pool);
        try {
            db.migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return db;
    }

    private void migrate() {
        MigrateResult result;
        try {
            result = Flyway.configure(SessionDatabase.class.getClassLoader()).dataSource(pool)
                    .locations("classpath:dev/warmroute/cluster/store/migration/" + (settings.postgres() ? "postgresql" : "h2"))
                    .failOnMissingLocations(true)
                    .table(HISTORY_TABLE)
                    .connectRetries(0)
                    .load().migrate();
        } catch (RuntimeException e) {
            Throwable sql = e;
            while (sql != null && !(sql instanceof SQLException)) {
                sql = sql.getCause();
            }
            if (sql instanceof SQLException s && StoreErrors.isTransient(s)) {
                throw new StoreUnavailableException(settings.describe() + " cannot be reached: " + s.getMessage(), e);
            }
            throw new StoreFailureException("schema", settings.describe() + ": the schema migration failed: "
                    + e.getMessage(), e);
        }
        log.info("store.schema store=\"{}\" version={} applied={}", settings.describe(),
                result.targetSchemaVersion == null ? "current" : result.targetSchemaVersion,
                result.migrationsExecuted);
    }

    /** A pooled connection (auto-commit off); waits at most the connect timeout. */
    public Connection connection() throws SQLException {
        return pool.getConnection();
    }

    public StoreSettings settings() {
        return settings;
    }

    /** "PostgreSQL store 127.0.0.1:5432/warmroute": how messages name the store. */
    public String describe() {
        return settings.describe();
    }

    /** One round trip to the database within {@code timeoutSeconds}: true when it answered. */
    public boolean ping(int timeoutSeconds) {
        try (Connection c = pool.getConnection()) {
            if (c.isValid(timeoutSeconds)) {
                return true;
            }
            evict(c);
            return false;
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Drops a connection the database went away under, so that the next call gets a new one: HikariCP discards
     * connections on the standard connection-lost SQLSTATEs only, not on H2's "database closed".
     */
    public void evict(Connection c) {
        pool.evictConnection(c);
    }

    @Override
    public void close() {
        pool.close();
    }
}
