package dev.warmroute.worker;

import java.util.function.Supplier;

/**
 * The worker's id, known only once the gRPC server has bound its port (the id defaults to the advertised address).
 * Turns are refused until the worker is ready, so every turn sees it set.
 */
final class WorkerIdentity implements Supplier<String> {

    private volatile String id = "";

    void set(String id) {
        this.id = id;
    }

    @Override
    public String get() {
        return id;
    }
}
