package dev.warmroute.worker;

import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.cluster.CallMetadata;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The response side of one SendMessage call, written from the turn's own thread.
 *
 * <p>Flow control: {@link #send} waits while the transport's buffer is full ({@code isReady() == false}) until
 * gRPC's onReady callback, so a slow client slows generation down instead of making the server buffer without
 * bound. The wait blocks the turn's thread (never a gRPC thread) and gives up when the client cancels, the deadline
 * passes, or nothing was read for {@code stallLimit}.
 *
 * <p>Cancellation: gRPC reports a client cancel and an expired deadline through onCancel; {@link #checkAlive} turns
 * that into an exception at the next check (between prefill chunks and tokens), so the turn stops computing and
 * writes nothing.
 */
final class TurnStream {

    static final int READY_THRESHOLD_BYTES = 1024;

    private final ServerCallStreamObserver<SendMessageResponse> call;
    private final Deadline deadline;
    private final Duration stallLimit;
    private final Metadata trailers;
    private final Object readiness = new Object();
    private volatile boolean cancelled;
    private volatile Runnable cancelListener = () -> { };
    private final AtomicReference<Runnable> beforeFinalEvent = new AtomicReference<>(() -> { });
    private boolean closed;

    TurnStream(ServerCallStreamObserver<SendMessageResponse> call, Deadline deadline, Duration stallLimit,
            Metadata trailers) {
        this.call = call;
        this.deadline = deadline;
        this.stallLimit = stallLimit;
        this.trailers = trailers;
        // isReady() turns false once this many bytes wait unsent (gRPC's default is 32 KiB, about a thousand
        // deltas): a turn then generates at most a few dozen tokens ahead of a slow reader.
        call.setOnReadyThreshold(READY_THRESHOLD_BYTES);
        // Both handlers must be installed before the handler method returns.
        call.setOnReadyHandler(this::wake);
        call.setOnCancelHandler(() -> {
            cancelled = true;
            wake();
            cancelListener.run();
        });
    }

    /** Runs when the client cancels (or its deadline passes); used to leave the session's line early. */
    void onCancel(Runnable listener) {
        cancelListener = listener;
        if (cancelled) {
            listener.run();
        }
    }

    /**
     * Runs once, just before the final event (TurnComplete or the error status): what a client may observe once it
     * has that event (the session's place in line, the compute slot) is released before it is sent, not after.
     */
    void beforeFinalEvent(Runnable action) {
        beforeFinalEvent.set(action);
    }

    boolean cancelled() {
        return cancelled || call.isCancelled();
    }

    /** Throws CANCELLED or DEADLINE_EXCEEDED once the client is gone. */
    void checkAlive() {
        if (deadline != null && deadline.isExpired()) {
            throw Status.DEADLINE_EXCEEDED.withDescription("deadline passed after "
                    + "the turn started; nothing written").asRuntimeException();
        }
        if (cancelled()) {
            throw Status.CANCELLED.withDescription("the client cancelled the turn; nothing written")
                    .asRuntimeException();
        }
    }

    /** Sends one event, waiting for the client to read if its buffer is full. */
    void send(SendMessageResponse event) {
        long stallDeadline = System.nanoTime() + stallLimit.toNanos();
        synchronized (readiness) {
            while (!call.isReady()) {
                checkAlive();
                long left = stallDeadline - System.nanoTime();
                if (left <= 0) {
                    throw Status.CANCELLED.withDescription("the client read nothing for " + stallLimit.toSeconds()
                            + " s; the turn was stopped, nothing written").asRuntimeException();
                }
                try {
                    readiness.wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Status.CANCELLED.withDescription("worker stopping").asRuntimeException();
                }
            }
        }
        checkAlive();
        call.onNext(event);
    }

    /** Adds a trailer sent with the final status (success or error). */
    void trailer(Metadata.Key<String> key, String value) {
        CallMetadata.setTrailer(trailers, key, value);
    }

    /** Sends the final event (TurnComplete) and ends the stream with OK. */
    void sendFinal(SendMessageResponse event) {
        runBeforeFinalEvent();
        send(event);
        complete();
    }

    private void runBeforeFinalEvent() {
        beforeFinalEvent.getAndSet(() -> { }).run();
    }

    /** Ends the stream with OK. */
    private void complete() {
        if (!closed) {
            closed = true;
            call.onCompleted();
        }
    }

    /** Ends the stream with an error, unless the client is already gone (then nobody would read it). */
    void fail(Status status) {
        if (closed) {
            return;
        }
        runBeforeFinalEvent();
        closed = true;
        if (!call.isCancelled()) {
            call.onError(status.asRuntimeException());
        }
    }

    private void wake() {
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }
}
