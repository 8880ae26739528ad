package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TokenDelta;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a graceful stop waits for, on a real gRPC server (127.0.0.1, port 0): a streamed call whose handler holds it
 * open, until the client has its last event; never a health watch.
 */
class OpenCallsTest {

    private final OpenCalls openCalls = new OpenCalls();
    private final CountDownLatch release = new CountDownLatch(1);
    private final HealthStatusManager health = new HealthStatusManager();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        BindableService chat = new ChatServiceGrpc.ChatServiceImplBase() {
            @Override
            public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> out) {
                out.onNext(SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText("a")).build());
                Thread.ofVirtual().start(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    out.onNext(SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText("b"))
                            .build());
                    out.onCompleted();
                });
            }
        };
        server = GrpcServers.start("127.0.0.1", 0, health, List.of(chat), List.of(openCalls), null);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void aStreamedCallIsOpenUntilItsLastEventIsSent() throws Exception {
        Iterator<SendMessageResponse> events = ChatServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(SendMessageRequest.getDefaultInstance());
        assertEquals("a", events.next().getDelta().getText());
        assertEquals(1, openCalls.count());
        assertFalse(openCalls.awaitNone(Duration.ofMillis(50)), "the handler still holds the call");
        release.countDown();
        assertEquals("b", events.next().getDelta().getText());
        assertFalse(events.hasNext());
        assertTrue(openCalls.awaitNone(Duration.ofSeconds(30)));
        assertEquals(0, openCalls.count());
    }

    @Test
    void aCancelledCallIsNoLongerOpen() throws Exception {
        Context.CancellableContext context = Context.current().withCancellation();
        Iterator<SendMessageResponse> events = context.call(() -> ChatServiceGrpc.newBlockingStub(channel)
                .sendMessage(SendMessageRequest.getDefaultInstance()));
        assertEquals("a", events.next().getDelta().getText());
        assertEquals(1, openCalls.count());
        context.cancel(null);
        assertTrue(openCalls.awaitNone(Duration.ofSeconds(30)), "the client's cancel closed the call");
    }

    @Test
    void healthWatchesAreNotCounted() throws Exception {
        LinkedBlockingQueue<HealthCheckResponse> watched = new LinkedBlockingQueue<>();
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse value) {
                watched.add(value);
            }

            @Override
            public void onError(Throwable t) { }

            @Override
            public void onCompleted() { }
        });
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, watched.poll(30, TimeUnit.SECONDS).getStatus());
        assertEquals(0, openCalls.count());
        assertTrue(openCalls.awaitNone(Duration.ZERO));
    }
}
