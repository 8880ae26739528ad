package dev.warmroute.testing;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** A marshaller of raw bytes: sends a request as it is, bypassing the client's own (valid) encoding. */
public final class RawBytes {

    public static final MethodDescriptor.Marshaller<byte[]> MARSHALLER = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private RawBytes() {}

    /** {@code method} with raw bytes in and out. */
    public static <Q, R> MethodDescriptor<byte[], byte[]> of(MethodDescriptor<Q, R> method) {
        return method.toBuilder(MARSHALLER, MARSHALLER).build();
    }
}
