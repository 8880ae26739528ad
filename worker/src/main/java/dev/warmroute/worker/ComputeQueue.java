package dev.warmroute.worker;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Admission to computation: {@code capacity} turns run at once on their own threads (never gRPC's), at most
 * {@code queue} more wait, and anything beyond is refused at once with RESOURCE_EXHAUSTED so the router can try
 * another worker instead of piling up latency here. Turns block their thread while the client is slow to read
 * (flow control), which is why they never run on gRPC's executor.
 */
public final class ComputeQueue implements AutoCloseable {

    private final int capacity;
    private final int queueSize;
    private final ThreadPoolExecutor executor;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();

    public ComputeQueue(int capacity, int queueSize) {
        this.capacity = capacity;
        this.queueSize = queueSize;
        BlockingQueue<Runnable> q = queueSize == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queueSize);
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(capacity, capacity, 0, TimeUnit.MILLISECONDS, q, r -> {
            Thread t = new Thread(r, "turn-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        this.executor.prestartAllCoreThreads();
    }

    /**
     * A running task's place in {@link #running()}. A turn closes it just before its final event, so stats read once
     * the client has that event no longer count the turn; it is closed anyway when the task returns. Idempotent.
     */
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /** Runs {@code task} when a slot is free; RESOURCE_EXHAUSTED when the queue is full. */
    public void submit(Consumer<Slot> task) {
        waiting.incrementAndGet();
        try {
            executor.execute(() -> {
                waiting.decrementAndGet();
                running.incrementAndGet();
                AtomicBoolean counted = new AtomicBoolean(true);
                Slot slot = () -> {
                    if (counted.getAndSet(false)) {
                        running.decrementAndGet();
                    }
                };
                try {
                    task.accept(slot);
                } finally {
                    slot.close();
                }
            });
        } catch (RejectedExecutionException e) {
            waiting.decrementAndGet();
            throw Errors.exhausted("worker overloaded: " + running.get() + " turns running and " + waiting.get()
                    + " queued (capacity " + capacity + ", queue " + queueSize + "); retry later or on another"
                    + " worker");
        }
    }

    public int running() {
        return running.get();
    }

    public int queued() {
        return waiting.get();
    }

    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
