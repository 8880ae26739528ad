package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The one identity reader of workers and routers, on a real gRPC server (127.0.0.1, port 0): the handler answers
 * with what it reads, from another thread than the one the call arrived on, as a turn's handler does.
 */
class CallerIdentityTest {

    private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> WHO = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Identity/Who")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    private static Server server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws IOException {
        ServerServiceDefinition who = ServerServiceDefinition.builder("test.Identity")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, out) -> {
                    // Read on another thread, within the call's context, as a turn's compute thread does.
                    io.grpc.Context ctx = io.grpc.Context.current();
                    CompletableFuture.runAsync(ctx.wrap(() -> {
                        Metadata forwarded = CallerIdentity.forwardHeaders();
                        out.onNext(CallerIdentity.owner() + "|" + CallerIdentity.header(InternalCredential.METADATA_KEY)
                                + "|" + forwarded.keys());
                        out.onCompleted();
                    }));
                })).build();
        server = GrpcServers.start("127.0.0.1", 0, new HealthStatusManager(), List.of(() -> who),
                List.of(CallerIdentity.interceptor()), null);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static String callWith(Metadata headers) {
        return ClientCalls.blockingUnaryCall(io.grpc.ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(headers)), WHO,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "?");
    }

    @Test
    void aCallNamingNoOwnerIsAnonymousAndForwardsNothing() {
        assertEquals("anonymous|null|[]", callWith(new Metadata()));
    }

    @Test
    void theOwnerIsReadOnAnyThreadAndForwardedButTheInternalCredentialIsNot() {
        Metadata h = new Metadata();
        h.put(CallMetadata.OWNER, "alice@example.org");
        h.put(InternalCredential.METADATA_KEY, "forged");
        assertEquals("alice@example.org|forged|[x-warmroute-owner]", callWith(h),
                "the handler sees the credential presented (to check it) but never forwards it");
    }

    @Test
    void aMalformedOwnerFailsTheCallNamingTheHeaderAndTheRule() {
        Metadata h = new Metadata();
        h.put(CallMetadata.OWNER, "spaces are not allowed");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> callWith(h));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("x-warmroute-owner: must be 1 to 128 characters of [A-Za-z0-9._:@-], got 'spaces are not"
                + " allowed'", e.getStatus().getDescription());
        Metadata tooLong = new Metadata();
        tooLong.put(CallMetadata.OWNER, "o".repeat(129));
        e = assertThrows(StatusRuntimeException.class, () -> callWith(tooLong));
        assertTrue(e.getStatus().getDescription().endsWith("got '" + "o".repeat(37) + "...'"),
                e.getStatus().getDescription());
        Metadata longest = new Metadata();
        longest.put(CallMetadata.OWNER, "o".repeat(128));
        assertEquals("o".repeat(128) + "|null|[x-warmroute-owner]", callWith(longest));
    }

    @Test
    void outsideACallThereIsNoIdentity() {
        assertEquals(CallerIdentity.ANONYMOUS, CallerIdentity.owner());
        assertNull(CallerIdentity.header(CallMetadata.OWNER));
        assertTrue(CallerIdentity.forwardHeaders().keys().isEmpty());
    }
}
