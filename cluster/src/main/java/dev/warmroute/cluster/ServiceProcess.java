package dev.warmroute.cluster;

import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a server in a JVM of its own (a worker or a router, as {@code warmroute worker|router} or as the child
 * that tests, drills and {@code cluster up} start with {@link dev.warmroute.cluster.launch.JvmLauncher}): serve until SIGTERM, which stops the
 * server gracefully in a shutdown hook, or until the launcher's process is gone ({@link ParentWatch}); and the exit
 * status of a start that failed. Workers and routers live and die alike, so the rules are here once.
 */
public final class ServiceProcess {

    /** A started server: {@link #close()} stops it gracefully, {@link #awaitTermination()} waits for its end. */
    public interface Server extends AutoCloseable {
        @Override
        void close();

        void awaitTermination() throws InterruptedException;

        /** What a client in the same process (the HTTP front) reaches this server's gRPC port with over loopback. */
        default io.grpc.ChannelCredentials loopbackCredentials() {
            return io.grpc.InsecureChannelCredentials.create();
        }
    }

    private final String role;
    private final Logger log;

    /**
     * @param role     "worker" or "router": names the log events ({@code router.signal}), the hook's thread and the
     *                 command in error messages
     * @param mainClass the process's main class, whose logger reports the signal (as the logs always showed it)
     */
    public ServiceProcess(String role, Class<?> mainClass) {
        this.role = role;
        this.log = LoggerFactory.getLogger(mainClass);
    }

    /**
     * Installs the graceful-stop hook, exits when {@code parentPid} (if positive) ends, and blocks until the server
     * has stopped.
     */
    public void serve(String id, Server server, long parentPid) throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("{}.signal {}={}: stopping gracefully", role, role, id);
            server.close();
        }, role + "-shutdown"));
        if (parentPid > 0) {
            ParentWatch.exitWhenGone(parentPid);
        }
        server.awaitTermination();
    }

    /**
     * Reports a failure that ended the command and returns the exit status: 2 for a bad setting
     * (IllegalArgumentException, whose message names the flag: one line), 1 for anything else (with the stack trace).
     */
    public int failed(Exception e, PrintWriter err) {
        err.println("warmroute " + role + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        if (e instanceof IllegalArgumentException) {
            return 2;
        }
        e.printStackTrace(err);
        return 1;
    }

    /**
     * Ends the JVM with {@code code} when it is not 0. After a normal end (the server stopped) the JVM exits on its
     * own once the shutdown hooks are done.
     */
    public static void exitOnFailure(int code) {
        if (code != 0) {
            System.exit(code);
        }
    }
}
