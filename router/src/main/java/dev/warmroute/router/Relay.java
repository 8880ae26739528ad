package dev.warmroute.router;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One attempt of a turn: one SendMessage call to one worker, its stream relayed to the client (the role of grpc-java's
 * {@code GrpcProxy}, for one server-streaming method).
 *
 * <ul>
 *   <li>Flow control, both ways: the worker call asks for one message at a time and asks for the next only while the
 *       client's transport is ready, otherwise on the client's onReady ({@link #clientReady}). So a slow client slows
 *       the worker (it blocks on its own isReady) and the router holds at most one message per turn.
 *   <li>Cancellation and deadline: the call is made in the client call's gRPC context, so the client's cancellation
 *       and deadline reach the worker by themselves; without a client deadline the router's turn timeout applies.
 *   <li>A worker that leaves the cluster: its {@link Permit} abandons the call, which then ends (CANCELLED, read as
 *       UNAVAILABLE by the turn through {@link Permit#abandoned()}).
 * </ul>
 *
 * <p>Threads: the worker call's callbacks run on the transport's threads; each is handled under {@code lock}, the
 * turn's monitor, under which the turn also writes to the client and calls {@link #clientReady} and {@link #cancel}.
 */
final class Relay implements ClientResponseObserver<SendMessageRequest, SendMessageResponse>, Permit.Abandonable {

    /** The turn's side. Called under the lock, at most once with {@link #onClose}, never after {@link #cancel}. */
    interface Listener {
        /** A worker event. Returns false when the turn wants no more of this call. */
        boolean onMessage(Relay relay, SendMessageResponse event);

        /** The call ended ({@code status} OK when the worker completed the stream). */
        void onClose(Relay relay, Status status);
    }

    private final Permit permit;
    private final PlacementDecision decision;
    private final ServerCallStreamObserver<SendMessageResponse> client;
    private final Object lock;
    private final Listener listener;
    private final AtomicReference<Metadata> workerTrailers = new AtomicReference<>();
    private volatile ClientCallStreamObserver<SendMessageRequest> call;
    private long startNanos;
    /** Under the lock: a message is owed to the worker call once the client is ready. */
    private boolean wantMore;
    /** Under the lock: the call ended or the turn stopped it; nothing reaches the listener after. */
    private boolean closed;

    Relay(Permit permit, PlacementDecision decision, ServerCallStreamObserver<SendMessageResponse> client, Object lock,
            Listener listener) {
        this.permit = permit;
        this.decision = decision;
        this.client = client;
        this.lock = lock;
        this.listener = listener;
    }

    Permit permit() {
        return permit;
    }

    WorkerHandle worker() {
        return permit.worker();
    }

    /** The placement that chose this worker. */
    PlacementDecision decision() {
        return decision;
    }

    /** When the call to the worker was started ({@link System#nanoTime()}). */
    long startNanos() {
        return startNanos;
    }

    /** The worker's trailers, once the call has ended; null before. */
    Metadata workerTrailers() {
        return workerTrailers.get();
    }

    /** Starts the call. Caller holds the lock and is on the client call's context. */
    void start(SendMessageRequest request, Metadata headers, Context clientContext, Duration defaultDeadline) {
        ChatServiceGrpc.ChatServiceStub stub = ChatServiceGrpc.newStub(worker().channel()).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(headers),
                MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), workerTrailers));
        if (clientContext.getDeadline() == null) {
            stub = stub.withDeadlineAfter(defaultDeadline.toMillis(), TimeUnit.MILLISECONDS);
        }
        permit.whenAbandoned(this);
        startNanos = System.nanoTime();
        ChatServiceGrpc.ChatServiceStub s = stub;
        clientContext.run(() -> s.sendMessage(request, this));
        String reason = permit.abandoned();
        if (reason != null && call != null && !closed) {
            call.cancel(reason, null); // the worker left while the call was being created
        }
    }

    /** The client can take more: ask the worker for the next message if one is owed. Caller holds the lock. */
    void clientReady() {
        if (wantMore && !closed && client.isReady()) {
            wantMore = false;
            call.request(1);
        }
    }

    /** The turn stops this call; the listener hears nothing more of it. Caller holds the lock. */
    void cancel(String why) {
        closed = true;
        ClientCallStreamObserver<SendMessageRequest> c = call;
        if (c != null) {
            c.cancel(why, null);
        }
    }

    @Override
    public void abandon(String reason) {
        ClientCallStreamObserver<SendMessageRequest> c = call;
        if (c != null) {
            c.cancel(reason, null);
        }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<SendMessageRequest> requestStream) {
        call = requestStream;
        requestStream.disableAutoRequestWithInitial(1);
    }

    @Override
    public void onNext(SendMessageResponse event) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (listener.onMessage(this, event) && !closed) {
                if (client.isReady()) {
                    call.request(1);
                } else {
                    wantMore = true;
                }
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        close(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        close(Status.OK);
    }

    private void close(Status status) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            listener.onClose(this, status);
        }
    }
}
