package dev.warmroute.worker;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client that reads one event and then stops reading until {@link #resume()}: a tiny HTTP/2 window and manual
 * inbound flow control, so the worker sees a reader that is not keeping up.
 */
final class SlowReader implements AutoCloseable {

    private final ManagedChannel channel;
    private final CompletableFuture<ChatClient.Turn> result = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<SendMessageRequest> call;
    private volatile boolean paused = true;

    SlowReader(String address) {
        channel = NettyChannelBuilder.forTarget(address).usePlaintext().flowControlWindow(1024).build();
    }

    void start(SendMessageRequest request) {
        List<TokenDelta> deltas = new ArrayList<>();
        TurnStarted[] started = {null};
        TurnComplete[] complete = {null};
        ChatServiceGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).sendMessage(request,
                new ClientResponseObserver<SendMessageRequest, SendMessageResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<SendMessageRequest> c) {
                        call = c;
                        c.disableAutoRequestWithInitial(2);
                    }

                    @Override
                    public void onNext(SendMessageResponse r) {
                        switch (r.getEventCase()) {
                            case STARTED -> started[0] = r.getStarted();
                            case DELTA -> deltas.add(r.getDelta());
                            case COMPLETE -> complete[0] = r.getComplete();
                            default -> { }
                        }
                        if (!paused) {
                            call.request(1);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.complete(new ChatClient.Turn(started[0], deltas, complete[0], Status.fromThrowable(t),
                                new Metadata()));
                    }

                    @Override
                    public void onCompleted() {
                        result.complete(new ChatClient.Turn(started[0], deltas, complete[0], Status.OK,
                                new Metadata()));
                    }
                });
    }

    void resume() {
        paused = false;
        call.request(1);
    }

    CompletableFuture<ChatClient.Turn> result() {
        return result;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
