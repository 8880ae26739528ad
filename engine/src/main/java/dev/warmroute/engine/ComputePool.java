package dev.warmroute.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine's threads: {@code n - 1} persistent workers plus the calling thread run each parallel region.
 *
 * <p>Why not ForkJoin: a decode step of a small model has ~30 parallel regions of a few microseconds each (25k+
 * regions per second); submitting tasks and joining costs more than the work. Here a region is one volatile write
 * (the generation) and one counter; workers spin briefly (regions follow each other within microseconds during a
 * forward pass), then park, so an idle engine costs no CPU.
 *
 * <p>Work is split by the caller's {@link Region} into {@code n} static parts by OUTPUT index, never by the reduction
 * dimension: which thread computes an element does not change its bits.
 */
final class ComputePool implements AutoCloseable {

    /** One parallel region: part {@code part} of {@code parts}. */
    @FunctionalInterface
    interface Region {
        void run(int part, int parts);
    }

    private static final int SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private volatile Region region;
    private volatile long generation;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile boolean closed;

    ComputePool(int threads, String name) {
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            int part = i;
            Thread t = new Thread(() -> loop(part), name + "-" + i);
            t.setDaemon(true);
            workers[i - 1] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs the region on all threads and returns when every part is done; a worker's exception is rethrown. */
    void run(Region r) {
        if (threads == 1) {
            r.run(0, 1);
            return;
        }
        failure = null;
        region = r;
        pending.set(threads - 1);
        generation++; // volatile write publishes region
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        Throwable mine = null;
        try {
            r.run(0, threads);
        } catch (Throwable t) {
            mine = t;
        }
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < 1_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // another process may hold the core a worker needs
            }
        }
        Throwable f = mine != null ? mine : failure;
        if (f instanceof RuntimeException e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    private void loop(int part) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            int spins = 0;
            while (generation == seen && !closed) {
                if ((++spins & 0xFF) == 0 && System.nanoTime() - start > SPIN_NANOS) {
                    // run() bumps the generation before unparking, and an unpark that comes first leaves a permit:
                    // no wake-up is lost, so an idle engine sleeps without polling.
                    LockSupport.park(this);
                } else {
                    Thread.onSpinWait();
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                region.run(part, threads);
            } catch (Throwable t) {
                failure = t;
            }
            pending.decrementAndGet();
        }
    }

    /** Start of part {@code part} when splitting {@code n} items into {@code parts} contiguous ranges. */
    static int split(int n, int part, int parts) {
        return (int) ((long) n * part / parts);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
