package dev.warmroute.cli.cluster;

import dev.warmroute.cluster.launch.LocalClusterOptions;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where a local cluster keeps its history: the flags {@code cluster up} and the drills share. A data folder (an H2
 * store process over it), an external database, or nothing (memory only).
 */
public final class StoreFlags {

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder of the history store (H2, served by a store process), found again by every"
                    + " start with the same folder.")
    Path data;

    @Option(names = "--store", defaultValue = "", paramLabel = "JDBC-URL",
            description = "An external history store instead of --data, e.g. jdbc:postgresql://db:5432/warmroute.")
    String store;

    @Option(names = "--store-user", defaultValue = "", description = "Database user of --store.")
    String storeUser;

    @Option(names = "--store-password-file", paramLabel = "FILE",
            description = "File whose first line is the password of --store.")
    Path storePasswordFile;

    @Option(names = "--no-store", description = "Keep history in memory only (lost when the cluster stops).")
    boolean noStore;

    /**
     * Sets the builder's store: {@code --store}, else {@code --data}, else {@code defaultData}, unless
     * {@code --no-store}. IllegalArgumentException for flags that contradict each other.
     */
    public void apply(LocalClusterOptions.Builder b, Path defaultData) {
        boolean external = store != null && !store.isBlank();
        if (noStore && (data != null || external)) {
            throw new IllegalArgumentException("--no-store: not with --data or --store");
        }
        if (external && data != null) {
            throw new IllegalArgumentException("--store: not with --data (one history store)");
        }
        if (external) {
            b.store(store, storeUser, storePasswordFile);
        } else if (!noStore) {
            b.data((data != null ? data : defaultData).toAbsolutePath().normalize());
        }
    }

    public boolean external() {
        return store != null && !store.isBlank();
    }

    public boolean none() {
        return noStore;
    }
}
