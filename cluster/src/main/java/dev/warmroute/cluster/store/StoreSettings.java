package dev.warmroute.cluster.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where the {@code sessions} map keeps its history across a full restart: a JDBC database every member reaches.
 * Embedded H2 in a file (one worker, or {@code cluster up}'s store process serving that file over TCP) or PostgreSQL
 * in production; the same code and the same schema for both.
 *
 * @param url            {@code jdbc:h2:...} or {@code jdbc:postgresql://host:port/db}
 * @param user           database user (may be empty for H2)
 * @param password       database password (never logged; may be empty)
 * @param poolSize       connections per member: commits of one member run on its partition threads, so a few suffice
 * @param connectTimeout how long a call waits for a connection before the store counts as unavailable; it runs on a
 *                       Hazelcast partition thread, so it must be short
 * @param queryTimeout   how long one statement may take
 */
public record StoreSettings(String url, String user, String password, int poolSize, Duration connectTimeout,
        Duration queryTimeout) {

    public StoreSettings {
        url = url == null ? "" : url.strip();
        if (!url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("store: a JDBC URL jdbc:h2:... or jdbc:postgresql://host:port/db, got '"
                    + url + "'");
        }
        user = user == null ? "" : user;
        password = password == null ? "" : password;
        if (poolSize < 1 || poolSize > 64) {
            throw new IllegalArgumentException("store-pool-size: must be in [1, 64], got " + poolSize);
        }
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(queryTimeout, "queryTimeout");
        if (connectTimeout.toMillis() < 250 || connectTimeout.toMillis() > 60_000) {
            throw new IllegalArgumentException("store-connect-timeout-ms: must be in [250, 60000], got "
                    + connectTimeout.toMillis());
        }
        if (queryTimeout.toSeconds() < 1 || queryTimeout.toSeconds() > 600) {
            throw new IllegalArgumentException("store-query-timeout-seconds: must be in [1, 600], got "
                    + queryTimeout.toSeconds());
        }
    }

    /** Short timeouts (1.5 s to connect, 3 s per statement), 4 connections. */
    public static StoreSettings of(String url, String user, String password) {
        return new StoreSettings(url, user, password, 4, Duration.ofMillis(1500), Duration.ofSeconds(3));
    }

    /** An embedded H2 database in {@code dataDir} (one process only: H2 locks the file). */
    public static StoreSettings embeddedH2(Path dataDir) {
        return of("jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve(H2_NAME) + H2_OPTIONS, "warmroute",
                "");
    }

    /** The database name of the H2 file in a data folder ({@code sessions.mv.db}). */
    public static final String H2_NAME = "sessions";

    /**
     * H2 settings for every URL we build: each commit written to the file before the call returns (WRITE_DELAY=0;
     * H2's default lets up to 500 ms of acknowledged commits die with the process), and a lock wait shorter than our
     * statement timeout.
     */
    public static final String H2_OPTIONS = ";WRITE_DELAY=0;LOCK_TIMEOUT=2000";

    /** Which kind of database: names the store in messages ("PostgreSQL store at host:port/db"). */
    public String describe() {
        if (url.startsWith("jdbc:postgresql:")) {
            String rest = url.substring("jdbc:postgresql:".length());
            int q = rest.indexOf('?');
            return "PostgreSQL store " + (q < 0 ? rest : rest.substring(0, q));
        }
        String rest = url.substring("jdbc:h2:".length());
        int semi = rest.indexOf(';');
        return "H2 store " + (semi < 0 ? rest : rest.substring(0, semi));
    }

    public boolean postgres() {
        return url.startsWith("jdbc:postgresql:");
    }

    public StoreSettings withPoolSize(int n) {
        return new StoreSettings(url, user, password, n, connectTimeout, queryTimeout);
    }

    public StoreSettings withTimeouts(Duration connect, Duration query) {
        return new StoreSettings(url, user, password, poolSize, connect, query);
    }

    /** Reads a password from a file (first line), so that it never appears on a command line. */
    public static String readPassword(Path file) {
        try {
            String s = Files.readString(file).strip();
            int nl = s.indexOf('\n');
            return nl < 0 ? s : s.substring(0, nl).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("store-password-file: cannot read " + file + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "StoreSettings[" + describe() + " user=" + user + " pool=" + poolSize + "]";
    }
}
