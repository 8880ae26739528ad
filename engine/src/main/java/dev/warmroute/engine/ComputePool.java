package dev.warmroute.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine's threads: {@code n - 1} persistent workers plus the calling thread run each parallel region.
 *
 * <p>Why not ForkJoin: a decode step of a small model has ~30 parallel regions of a few microseconds each (25k+
 * regions per second); submitting tasks and joining costs more than the work. Here a region is one volatile write,
 * workers spin briefly (regions follow each other within microseconds during a forward pass), then park, so an idle
 * engine costs no CPU.
 *
 * <p>A region is a number of chunks that the threads claim from a shared counter. On a busy machine (gRPC and
 * Hazelcast threads, other processes) a worker may not get a core for milliseconds; with static shares every region
 * would wait for it, with claiming the threads that run take its chunks and the caller only waits for chunks that
 * were actually started. Which thread computes a chunk never changes its bits: chunks are ranges of OUTPUTS (weight
 * panels, attention heads), never parts of a reduction.
 */
final class ComputePool implements AutoCloseable {

    /** Work of one chunk; {@code thread} (0..threads-1) selects per-thread scratch. */
    @FunctionalInterface
    interface Task {
        void run(int chunk, int thread);
    }

    private static final int SPIN_NANOS = 50_000;

    private static final class Region {
        final Task task;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger active = new AtomicInteger();
        volatile Throwable failure;

        Region(Task task, int chunks) {
            this.task = task;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void work(int thread) {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    task.run(c, thread);
                } catch (Throwable t) {
                    failure = t;
                    next.set(chunks); // stop handing out chunks
                }
            }
        }
    }

    private final int threads;
    private final long minParallelWork;
    private final Thread[] workers;
    private volatile Region region;
    private volatile long generation;
    private volatile boolean closed;

    /**
     * @param minParallelWork regions with less work than this (multiply-adds, as the caller estimates them) run on
     *                        the calling thread: handing them out would cost more than it saves
     */
    ComputePool(int threads, long minParallelWork, String name) {
        this.threads = threads;
        this.minParallelWork = minParallelWork;
        this.workers = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            int id = i;
            Thread t = new Thread(() -> loop(id), name + "-" + i);
            t.setDaemon(true);
            workers[i - 1] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    ComputePool(int threads, String name) {
        this(threads, 0, name);
    }

    /**
     * Runs chunks 0..chunks-1 and returns when all are done; a failure is rethrown. {@code work} estimates the
     * region's cost in multiply-adds: below the pool's threshold the calling thread runs every chunk itself.
     */
    void run(int chunks, long work, Task task) {
        if (work < minParallelWork) {
            for (int c = 0; c < chunks; c++) {
                task.run(c, 0);
            }
            return;
        }
        run(chunks, task);
    }

    /** Runs chunks 0..chunks-1 on all threads and returns when all are done; a failure is rethrown. */
    void run(int chunks, Task task) {
        if (threads == 1 || chunks == 1) {
            for (int c = 0; c < chunks; c++) {
                task.run(c, 0);
            }
            return;
        }
        Region r = new Region(task, chunks);
        region = r;
        generation++; // volatile write after region: a worker that sees the new generation sees r
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        r.work(0);
        // Counter exhausted: a worker that registers as active from now on claims nothing, so wait only for those
        // registered before (they may be in the middle of a chunk).
        int spins = 0;
        while (r.active.get() != 0) {
            if (++spins < 1_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the worker may be waiting for a core we hold
            }
        }
        Throwable f = r.failure;
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

    private void loop(int id) {
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
            Region r = region;
            r.active.incrementAndGet();
            r.work(id);
            r.active.decrementAndGet();
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
