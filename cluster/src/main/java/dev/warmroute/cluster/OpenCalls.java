package dev.warmroute.cluster;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts the calls of the services it wraps from their start until gRPC reports them closed, so a graceful stop
 * can wait for exactly those calls and then {@code shutdownNow()} the server without cutting any of them.
 *
 * <p>Why not count turns in the service: a service's own "turn ended" comes before its final messages reach the
 * wire, and {@code shutdownNow()} in between resets the stream (the client sees CANCELLED instead of its last
 * event). gRPC calls {@code onComplete}/{@code onCancel} only once the stream is closed in the transport. Why not
 * {@code server.awaitTermination()}: health watches of load balancers stay open for good, so the stop would always
 * take the whole grace period. Put this interceptor last in the list, so it is the outermost and sees every call.
 */
public final class OpenCalls implements ServerInterceptor {

    private final Object lock = new Object();
    private int open;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        opened();
        AtomicBoolean ended = new AtomicBoolean();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                closed();
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(call, headers);
        } catch (RuntimeException e) {
            end.run();
            throw e;
        }
        return new SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    end.run();
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    end.run();
                }
            }
        };
    }

    /** Calls started and not yet closed. */
    public int count() {
        synchronized (lock) {
            return open;
        }
    }

    /** Waits until no wrapped call is open, at most {@code timeout}; true when none is. */
    public boolean awaitNone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (open > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    private void opened() {
        synchronized (lock) {
            open++;
        }
    }

    private void closed() {
        synchronized (lock) {
            open--;
            if (open == 0) {
                lock.notifyAll();
            }
        }
    }
}
