package dev.warmroute.http;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A channel whose destination is known only after the front is listening: the HTTP port must be in the server's
 * ready file, so the front binds before the gRPC server it translates to has a port. A call that arrives in between
 * waits for {@link #attach} (bounded), rather than failing a client that read the ready file a moment early.
 */
final class PendingChannel extends Channel {

    private final CompletableFuture<Channel> target = new CompletableFuture<>();
    private final Duration wait;

    PendingChannel(Duration wait) {
        this.wait = wait;
    }

    void attach(Channel channel) {
        target.complete(channel);
    }

    @Override
    public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
        try {
            return target.get(wait.toMillis(), TimeUnit.MILLISECONDS).newCall(method, options);
        } catch (TimeoutException e) {
            throw Status.UNAVAILABLE.withDescription("the HTTP front is not connected to its gRPC server yet "
                    + "(starting); retry").asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while the front was starting").asRuntimeException();
        } catch (ExecutionException e) {
            throw Status.UNAVAILABLE.withDescription("the HTTP front could not connect: " + e.getCause())
                    .asRuntimeException();
        }
    }

    @Override
    public String authority() {
        Channel c = target.getNow(null);
        return c == null ? "pending" : c.authority();
    }
}
