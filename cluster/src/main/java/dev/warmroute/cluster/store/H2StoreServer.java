package dev.warmroute.cluster.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.h2.tools.Server;

/**
 * H2's TCP server over the history file of a data folder ({@code DIR/sessions.mv.db}), so that several worker
 * processes on one machine share one embedded-file database (H2 lets only one process open the file). What
 * {@code cluster up} runs as its store process; it listens on 127.0.0.1 only and the database needs the password kept
 * in {@code DIR/store.password} (created on first use, readable by its owner only).
 *
 * <p>Every commit is written to the file before it returns ({@link StoreSettings#H2_OPTIONS}), so a kill -9 of this
 * process loses no acknowledged turn.
 */
public final class H2StoreServer implements AutoCloseable {

    /** The database user of a data folder's store. */
    public static final String USER = "warmroute";
    private static final String LOOPBACK = "127.0.0.1";
    /** File of the password in the data folder. */
    public static final String PASSWORD_FILE = "store.password";

    private final Server server;
    private final Path dataDir;
    private final String password;
    private final String host;

    private H2StoreServer(Server server, Path dataDir, String password, String host) {
        this.server = server;
        this.host = host;
        this.dataDir = dataDir;
        this.password = password;
    }

    /** Starts the server on {@code port} (0: any free port) and brings the schema up to date. */
    public static H2StoreServer start(Path dataDir, int port) throws IOException {
        return start(dataDir, LOOPBACK, port);
    }

    /**
     * Starts the server for workers that reach it at {@code host}. On 127.0.0.1 it accepts local connections only
     * (H2's default); on another address (a drill's network split, whose workers run in a namespace of their own) it
     * binds that address alone and accepts the connections that arrive there, still behind the password.
     */
    public static H2StoreServer start(Path dataDir, String host, int port) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        String password = passwordOf(dir);
        Server server;
        List<String> args = new ArrayList<>(List.of("-tcpPort", String.valueOf(port), "-baseDir", dir.toString(),
                "-ifNotExists"));
        if (!host.equals(LOOPBACK)) {
            // Read by H2 once, when its classes load: this process starts one server only (StoreServerMain).
            System.setProperty("h2.bindAddress", host);
            args.add("-tcpAllowOthers");
        }
        try {
            server = Server.createTcpServer(args.toArray(String[]::new)).start();
        } catch (SQLException e) {
            throw new IOException("H2 store server on port " + port + " did not start: " + e.getMessage(), e);
        }
        H2StoreServer s = new H2StoreServer(server, dir, password, host);
        try (SessionDatabase db = SessionDatabase.open(s.settings())) {
            // open() migrated the schema once, here, before any worker connects
        } catch (RuntimeException e) {
            server.stop();
            throw new IOException("H2 store in " + dir + ": " + e.getMessage(), e);
        }
        return s;
    }

    /** The password of a data folder's store, created (random, mode 600) when the folder has none yet. */
    public static String passwordOf(Path dataDir) throws IOException {
        Path file = dataDir.resolve(PASSWORD_FILE);
        if (!Files.exists(file)) {
            byte[] b = new byte[18];
            new SecureRandom().nextBytes(b);
            Path tmp = Files.createTempFile(dataDir, "store", ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the folder's own permissions apply
            }
            Files.writeString(tmp, HexFormat.of().formatHex(b) + "\n");
            try {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp);
            }
        }
        return StoreSettings.readPassword(file);
    }

    public int port() {
        return server.getPort();
    }

    /** The JDBC URL workers use. */
    public String url() {
        return "jdbc:h2:tcp://" + host + ":" + port() + "/" + StoreSettings.H2_NAME + StoreSettings.H2_OPTIONS;
    }

    public StoreSettings settings() {
        return StoreSettings.of(url(), USER, password);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path passwordFile() {
        return dataDir.resolve(PASSWORD_FILE);
    }

    @Override
    public void close() {
        server.stop();
    }
}
