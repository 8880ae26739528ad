package dev.warmroute.worker;

import dev.warmroute.cluster.LenientRequestMarshaller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.testing.RawBytes;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Invalid UTF-8 on the wire becomes INVALID_ARGUMENT naming the field, through a real Netty server. */
class LenientRequestMarshallerTest {

    /** A SendMessageRequest whose message.content (field 3, then field 2) is not UTF-8; builders refuse to make it. */
    static byte[] invalidUtf8Request() {
        return invalidUtf8Request("s1");
    }

    static byte[] invalidUtf8Request(String sessionId) {
        UnknownFieldSet message = UnknownFieldSet.newBuilder()
                .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(2).build())
                .addField(2, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFrom(new byte[] {'h', 'i', (byte) 0xC3, (byte) 0x28}))
                        .build())
                .build();
        return UnknownFieldSet.newBuilder()
                .addField(1, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8(sessionId)).build())
                .addField(3, UnknownFieldSet.Field.newBuilder().addLengthDelimited(message.toByteString()).build())
                .build().toByteArray();
    }

    @Test
    void namesTheFieldThatHoldsInvalidUtf8() throws Exception {
        ChatServiceGrpc.ChatServiceImplBase echo = new ChatServiceGrpc.ChatServiceImplBase() {
            @Override
            public void getSession(GetSessionRequest request, StreamObserver<Session> out) {
                out.onNext(Session.newBuilder().setSessionId(request.getSessionId()).build());
                out.onCompleted();
            }
        };
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(LenientRequestMarshaller.wrap(echo.bindService())).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            // A valid request still goes through.
            Session ok = ChatServiceGrpc.newBlockingStub(channel)
                    .getSession(GetSessionRequest.newBuilder().setSessionId("abc").build());
            assertEquals("abc", ok.getSessionId());

            byte[] bad = invalidUtf8Request();
            MethodDescriptor<byte[], byte[]> raw = RawBytes.of(ChatServiceGrpc.getSendMessageMethod());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls
                    .blockingServerStreamingCall(channel, raw, CallOptions.DEFAULT, bad).hasNext());
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
            assertTrue(e.getStatus().getDescription().contains("message.content: not valid UTF-8"), e.toString());
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }
}
