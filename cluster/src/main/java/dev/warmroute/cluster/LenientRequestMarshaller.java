package dev.warmroute.cluster;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses requests so that invalid UTF-8 in a {@code string} field becomes INVALID_ARGUMENT naming the field
 * ("message.content: not valid UTF-8"), as the API promises, instead of gRPC's generic parse failure.
 *
 * <p>protobuf-java checks UTF-8 while parsing proto3 strings, and gRPC answers a request that fails to parse with
 * UNKNOWN "Application error processing RPC" (an exception thrown by a marshaller is not turned into its status).
 * This marshaller parses as usual and, only when that fails, walks the raw fields with the message's descriptor to
 * name the offending field. It then returns an empty request carrying the error in an unknown field that no
 * .proto uses; the interceptor installed by {@link #wrap} closes such a call with INVALID_ARGUMENT before the
 * handler sees it. Workers and routers both parse client requests, so both wrap their services with it.
 *
 * <p>A client can send that field number too (any field number parses, as an unknown field). So the marker starts
 * with a random key of this JVM that no client knows: a request whose field lacks it is an ordinary request with an
 * unknown field (ignored, as proto3 ignores unknown fields), not a rejection whose words the client chose, and a
 * field of another wire type is no rejection either (it used to fail the call with UNKNOWN).
 */
public final class LenientRequestMarshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {

    /** The highest legal field number: never used by our .proto files. */
    static final int ERROR_FIELD = 536_870_911;
    /** Starts every marker this JVM writes: what tells a rejection from a client's field {@link #ERROR_FIELD}. */
    private static final ByteString MARKER_KEY;

    static {
        byte[] key = new byte[16];
        new java.security.SecureRandom().nextBytes(key);
        MARKER_KEY = ByteString.copyFrom(key);
    }

    private final MethodDescriptor.Marshaller<T> delegate;
    private final Message prototype;
    private final Descriptor descriptor;

    private LenientRequestMarshaller(MethodDescriptor.Marshaller<T> delegate, Message prototype) {
        this.delegate = delegate;
        this.prototype = prototype;
        this.descriptor = prototype.getDescriptorForType();
    }

    @Override
    public InputStream stream(T value) {
        return delegate.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
        byte[] bytes;
        try {
            bytes = stream.readAllBytes();
        } catch (IOException e) {
            return rejected("request: could not be read (" + e.getMessage() + ")");
        }
        try {
            return delegate.parse(new java.io.ByteArrayInputStream(bytes));
        } catch (RuntimeException e) {
            String field = invalidUtf8Field(descriptor, ByteString.copyFrom(bytes), "");
            return rejected(field != null ? field + ": not valid UTF-8"
                    : "request: not a valid " + descriptor.getName() + " message");
        }
    }

    @SuppressWarnings("unchecked")
    private T rejected(String description) {
        UnknownFieldSet marker = UnknownFieldSet.newBuilder().addField(ERROR_FIELD, UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(MARKER_KEY.concat(ByteString.copyFromUtf8(description))).build()).build();
        return (T) prototype.newBuilderForType().setUnknownFields(marker).build();
    }

    /** The parse error a request carries, or null for a request that parsed. */
    static String rejection(Object request) {
        if (request instanceof Message m && m.getUnknownFields().hasField(ERROR_FIELD)) {
            for (ByteString value : m.getUnknownFields().getField(ERROR_FIELD).getLengthDelimitedList()) {
                if (value.startsWith(MARKER_KEY)) {
                    return value.substring(MARKER_KEY.size()).toStringUtf8();
                }
            }
        }
        return null;
    }

    /** Closes calls whose request did not parse, with INVALID_ARGUMENT; drops their later events. */
    static final class RejectInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            ServerCall.Listener<Q> delegate = next.startCall(call, headers);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                private boolean closed;

                @Override
                public void onMessage(Q message) {
                    String error = rejection(message);
                    if (error != null) {
                        closed = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription(error), new Metadata());
                        return;
                    }
                    super.onMessage(message);
                }

                @Override
                public void onHalfClose() {
                    if (!closed) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onReady() {
                    if (!closed) {
                        super.onReady();
                    }
                }

                @Override
                public void onCancel() {
                    if (!closed) {
                        super.onCancel();
                    }
                }

                @Override
                public void onComplete() {
                    if (!closed) {
                        super.onComplete();
                    }
                }
            };
        }
    }

    /** The path of the first string field holding invalid UTF-8, or null. */
    static String invalidUtf8Field(Descriptor type, ByteString bytes, String prefix) {
        UnknownFieldSet fields;
        try {
            fields = UnknownFieldSet.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
        for (var entry : fields.asMap().entrySet()) {
            FieldDescriptor fd = type.findFieldByNumber(entry.getKey());
            if (fd == null) {
                continue;
            }
            String path = prefix + fd.getName();
            for (ByteString value : entry.getValue().getLengthDelimitedList()) {
                if (fd.getType() == FieldDescriptor.Type.STRING && !value.isValidUtf8()) {
                    return path;
                }
                if (fd.getType() == FieldDescriptor.Type.MESSAGE) {
                    String inner = invalidUtf8Field(fd.getMessageType(), value, path + ".");
                    if (inner != null) {
                        return inner;
                    }
                }
            }
        }
        return null;
    }

    /** The service with every method's request marshaller wrapped. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static ServerServiceDefinition wrap(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor());
        ServerServiceDefinition.Builder out = null;
        java.util.List<ServerMethodDefinition<?, ?>> methods = new java.util.ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            MethodDescriptor md = m.getMethodDescriptor();
            MethodDescriptor.Marshaller reqMarshaller = md.getRequestMarshaller();
            MethodDescriptor.Marshaller wrapped = reqMarshaller;
            if (reqMarshaller instanceof MethodDescriptor.PrototypeMarshaller<?> pm
                    && pm.getMessagePrototype() instanceof Message prototype) {
                wrapped = new LenientRequestMarshaller(reqMarshaller, prototype);
            }
            MethodDescriptor newMd = md.toBuilder(wrapped, md.getResponseMarshaller()).build();
            descriptor.addMethod(newMd);
            methods.add(ServerMethodDefinition.create(newMd, (io.grpc.ServerCallHandler) m.getServerCallHandler()));
        }
        out = ServerServiceDefinition.builder(descriptor.build());
        for (ServerMethodDefinition<?, ?> m : methods) {
            out.addMethod(m);
        }
        return ServerInterceptors.intercept(out.build(), new RejectInterceptor());
    }
}
