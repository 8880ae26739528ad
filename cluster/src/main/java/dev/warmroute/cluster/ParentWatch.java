package dev.warmroute.cluster;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a child server exit when the process that started it dies, even by kill -9 (which runs no shutdown hook in
 * the parent and so cannot stop the children itself). {@code warmroute cluster up} and the drills pass their pid to
 * every child; the child's exit runs its own graceful shutdown hook.
 */
public final class ParentWatch {

    private static final Logger log = LoggerFactory.getLogger(ParentWatch.class);

    private ParentWatch() {}

    /**
     * Exits this JVM (status 143, as for SIGTERM, so shutdown hooks run) once process {@code parentPid} has ended.
     * Returns false, having done nothing, when no such process exists (it already ended: exit at once).
     */
    public static boolean exitWhenGone(long parentPid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            log.warn("parent.gone pid={} at start; exiting", parentPid);
            exitAsync();
            return false;
        }
        parent.get().onExit().thenRun(() -> {
            log.warn("parent.gone pid={}; shutting down", parentPid);
            exitAsync();
        });
        return true;
    }

    private static void exitAsync() {
        // System.exit blocks until shutdown hooks finish; never do that on the thread that completes onExit.
        Thread t = new Thread(() -> System.exit(143), "parent-watch-exit");
        t.setDaemon(false);
        t.start();
    }
}
