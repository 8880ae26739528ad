package dev.warmroute.cluster.store;

import dev.warmroute.cluster.ParentWatch;
import dev.warmroute.cluster.ReadyFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The store process of {@code cluster up} and the drills: H2's TCP server over the history file of a data folder, so
 * that every worker process shares one database ({@link H2StoreServer}). Its own JVM, like a database server: a worker
 * killed takes no history with it, and a kill -9 of every process (restart-all) tests that the file keeps every
 * acknowledged turn.
 */
@Command(name = "store-server", mixinStandardHelpOptions = true,
        description = "Serve the H2 history database of a data folder for the workers of cluster up (on 127.0.0.1 unless --host).")
public final class StoreServerMain implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(StoreServerMain.class);

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data folder (sessions.mv.db, store.password).")
    Path data;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to serve on (default ${DEFAULT-VALUE}: local connections only).")
    String host;

    @Option(names = "--port", defaultValue = "0", description = "TCP port; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written with the port and JDBC URL once serving.")
    Path readyFile;

    @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process ends (set by launchers).")
    long parentPid;

    public static void main(String[] args) {
        int code = new CommandLine(new StoreServerMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        H2StoreServer server = H2StoreServer.start(data, host, port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("store.stopping port={}", server.port());
            server.close();
            stopped.countDown();
        }, "store-shutdown"));
        log.info("store.ready port={} data={} url={}", server.port(), server.dataDir(), server.url());
        if (readyFile != null) {
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("role", "store");
            ready.put("port", server.port());
            ready.put("url", server.url());
            ready.put("user", H2StoreServer.USER);
            ready.put("password_file", server.passwordFile().toString());
            ready.put("pid", ProcessHandle.current().pid());
            ReadyFile.write(readyFile, ready);
        }
        if (parentPid > 0) {
            ParentWatch.exitWhenGone(parentPid);
        }
        stopped.await();
        return 0;
    }
}
