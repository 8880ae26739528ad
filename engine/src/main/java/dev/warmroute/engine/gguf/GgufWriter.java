package dev.warmroute.engine.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes GGUF version 3 files: the inverse of {@link GgufFile}. Metadata values use the reader's Java
 * representation (see {@link GgufFile}), so a file's metadata can be copied value by value; tensors are streamed
 * through a {@link TensorData} callback one at a time, so a 440 MB model is written without holding it in memory.
 *
 * <p>The file appears atomically: it is written beside the target under a temporary name and moved into place
 * when complete, so a crash never leaves a truncated model where a good one is expected.
 */
public final class GgufWriter {

    /** Produces one tensor's bytes, in order, into the sink. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(TensorSink sink) throws IOException;
    }

    /** Receives tensor bytes; the writer checks that exactly the tensor's size arrives. */
    public interface TensorSink {
        /** Writes the buffer's remaining bytes. */
        void write(ByteBuffer bytes) throws IOException;
    }

    private record Value(GgufValueType type, GgufValueType elementType, Object value) {}

    private record Tensor(String name, GgmlType type, long[] dims, TensorData data, long size) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Map<String, Tensor> tensorNames = new LinkedHashMap<>();
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Data alignment (a power of two); anything but 32 is recorded as {@code general.alignment}. */
    public GgufWriter alignment(long a) {
        if (a <= 0 || Long.bitCount(a) != 1 || a > 1 << 20) {
            throw new IllegalArgumentException("alignment " + a + " must be a power of two up to 1 MiB");
        }
        this.alignment = a;
        if (a != GgufFile.DEFAULT_ALIGNMENT) {
            put("general.alignment", GgufValueType.UINT32, a);
        } else {
            metadata.remove("general.alignment");
        }
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValueType.STRING, v);
    }

    public GgufWriter putUInt32(String key, long v) {
        return put(key, GgufValueType.UINT32, v);
    }

    public GgufWriter putInt32(String key, int v) {
        return put(key, GgufValueType.INT32, v);
    }

    public GgufWriter putUInt64(String key, long v) {
        return put(key, GgufValueType.UINT64, v);
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValueType.FLOAT32, v);
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, GgufValueType.BOOL, v);
    }

    public GgufWriter putStrings(String key, String[] v) {
        return putArray(key, GgufValueType.STRING, v);
    }

    public GgufWriter putFloats(String key, float[] v) {
        return putArray(key, GgufValueType.FLOAT32, v);
    }

    public GgufWriter putInt32s(String key, int[] v) {
        return putArray(key, GgufValueType.INT32, v);
    }

    /**
     * A scalar value: Integer/Long (any integer type, range-checked), Float, Double, Boolean or String as the type
     * says. Replaces an earlier value of the key, keeping its position.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        checkKey(key);
        Objects.requireNonNull(type, "type");
        if (type == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("metadata " + key + ": use putArray for arrays");
        }
        checkScalar(key, type, value);
        metadata.put(key, new Value(type, null, value));
        return this;
    }

    /**
     * An array in the reader's representation: {@code byte[]} for (U)INT8, {@code short[]} for (U)INT16,
     * {@code int[]} for (U)INT32, {@code long[]} for (U)INT64, {@code float[]}, {@code double[]},
     * {@code boolean[]}, {@code String[]}, or {@code Object[]} of such arrays for arrays of arrays (element type
     * ARRAY; each inner array's type is inferred from its Java type).
     */
    public GgufWriter putArray(String key, GgufValueType elementType, Object array) {
        checkKey(key);
        checkArray(key, elementType, array);
        metadata.put(key, new Value(GgufValueType.ARRAY, elementType, array));
        return this;
    }

    /** Copies one metadata entry of a file as it is (type and value). */
    public GgufWriter copy(GgufFile from, String key) {
        GgufValueType t = from.valueType(key);
        if (t == null) {
            throw new IllegalArgumentException("metadata " + key + " is not in " + from.path());
        }
        return t == GgufValueType.ARRAY ? putArray(key, from.arrayElementType(key), from.get(key))
                : put(key, t, from.get(key));
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /**
     * Adds a tensor. {@code dims} in ggml order ({@code dims[0]} = row length); the row length must be a whole
     * number of the type's blocks.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorData data) {
        checkKey(name);
        if (tensorNames.containsKey(name)) {
            throw new IllegalArgumentException("tensor " + name + " is added twice");
        }
        if (dims.length == 0 || dims.length > 4) {
            throw new IllegalArgumentException("tensor " + name + " has " + dims.length + " dimensions (1 to 4 allowed)");
        }
        long n = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a dimension of " + d);
            }
            n = Math.multiplyExact(n, d);
        }
        if (dims[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + dims[0] + " is not a multiple of "
                    + type + "'s block size " + type.blockSize());
        }
        Tensor t = new Tensor(name, type, dims.clone(), data, type.bytesFor(n));
        tensors.add(t);
        tensorNames.put(name, t);
        return this;
    }

    /** Writes the file (atomically, see the class comment). */
    public void write(Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = (dir == null ? Path.of(".") : dir).resolve("." + out.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                writeTo(ch);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void writeTo(FileChannel ch) throws IOException {
        Header h = new Header();
        h.u32(GgufFile.MAGIC).u32(3).u64(tensors.size()).u64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            h.str(e.getKey());
            h.u32(e.getValue().type().id());
            if (e.getValue().type() == GgufValueType.ARRAY) {
                h.array(e.getValue().elementType(), e.getValue().value());
            } else {
                h.scalar(e.getValue().type(), e.getValue().value());
            }
        }
        long offset = 0;
        for (Tensor t : tensors) {
            h.str(t.name()).u32(t.dims().length);
            for (long d : t.dims()) {
                h.u64(d);
            }
            h.u32(t.type().id()).u64(offset);
            offset = align(offset + t.size());
        }
        while (h.size() % alignment != 0) {
            h.u8(0);
        }
        Sink sink = new Sink(ch);
        sink.write(h.buffer());
        for (Tensor t : tensors) {
            long before = sink.written;
            t.data().writeTo(sink);
            long got = sink.written - before;
            if (got != t.size()) {
                throw new IllegalStateException("tensor " + t.name() + " (" + t.type() + " " + java.util.Arrays.toString(t.dims())
                        + ") should have " + t.size() + " bytes, its data gave " + got);
            }
            sink.pad(align(sink.written) - sink.written);
        }
        sink.flush();
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata keys and tensor names must not be empty");
        }
    }

    private static void checkScalar(String key, GgufValueType t, Object v) {
        boolean ok = switch (t) {
            case UINT8 -> v instanceof Number n && isInt(n) && n.longValue() >= 0 && n.longValue() <= 0xFF;
            case INT8 -> v instanceof Number n && isInt(n) && n.longValue() >= Byte.MIN_VALUE && n.longValue() <= Byte.MAX_VALUE;
            case UINT16 -> v instanceof Number n && isInt(n) && n.longValue() >= 0 && n.longValue() <= 0xFFFF;
            case INT16 -> v instanceof Number n && isInt(n) && n.longValue() >= Short.MIN_VALUE && n.longValue() <= Short.MAX_VALUE;
            case UINT32 -> v instanceof Number n && isInt(n) && n.longValue() >= 0 && n.longValue() <= 0xFFFFFFFFL;
            case INT32 -> v instanceof Number n && isInt(n) && n.longValue() >= Integer.MIN_VALUE && n.longValue() <= Integer.MAX_VALUE;
            case UINT64, INT64 -> v instanceof Number n && isInt(n);
            case FLOAT32, FLOAT64 -> v instanceof Float || v instanceof Double;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata " + key + ": value " + v + " ("
                    + (v == null ? "null" : v.getClass().getSimpleName()) + ") is not a valid " + t);
        }
    }

    private static boolean isInt(Number n) {
        return n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte;
    }

    private static void checkArray(String key, GgufValueType et, Object a) {
        boolean ok = switch (et) {
            case UINT8, INT8 -> a instanceof byte[];
            case UINT16, INT16 -> a instanceof short[];
            case UINT32, INT32 -> a instanceof int[];
            case UINT64, INT64 -> a instanceof long[];
            case FLOAT32 -> a instanceof float[];
            case FLOAT64 -> a instanceof double[];
            case BOOL -> a instanceof boolean[];
            case STRING -> a instanceof String[] s && java.util.Arrays.stream(s).allMatch(Objects::nonNull);
            case ARRAY -> a instanceof Object[] o && java.util.Arrays.stream(o).allMatch(x -> elementTypeOf(x) != null);
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata " + key + ": " + (a == null ? "null" : a.getClass().getSimpleName())
                    + " is not an array of " + et);
        }
    }

    /** The element type a nested array is written with (signed for integer arrays). */
    private static GgufValueType elementTypeOf(Object a) {
        return switch (a) {
            case byte[] x -> GgufValueType.INT8;
            case short[] x -> GgufValueType.INT16;
            case int[] x -> GgufValueType.INT32;
            case long[] x -> GgufValueType.INT64;
            case float[] x -> GgufValueType.FLOAT32;
            case double[] x -> GgufValueType.FLOAT64;
            case boolean[] x -> GgufValueType.BOOL;
            case String[] x -> GgufValueType.STRING;
            case Object[] x -> GgufValueType.ARRAY;
            case null, default -> null;
        };
    }

    /** The header (magic, metadata, tensor infos) in a growable little-endian buffer. */
    private static final class Header {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        long size() {
            return b.position();
        }

        ByteBuffer buffer() {
            return b.duplicate().flip();
        }

        Header u8(int v) {
            ensure(1);
            b.put((byte) v);
            return this;
        }

        Header u16(int v) {
            ensure(2);
            b.putShort((short) v);
            return this;
        }

        Header u32(long v) {
            ensure(4);
            b.putInt((int) v);
            return this;
        }

        Header u64(long v) {
            ensure(8);
            b.putLong(v);
            return this;
        }

        Header str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            ensure(bytes.length);
            b.put(bytes);
            return this;
        }

        void scalar(GgufValueType t, Object v) {
            switch (t) {
                case UINT8, INT8 -> u8(((Number) v).intValue());
                case UINT16, INT16 -> u16(((Number) v).intValue());
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> str((String) v);
                case ARRAY -> throw new AssertionError();
            }
        }

        void array(GgufValueType et, Object a) {
            u32(et.id());
            switch (a) {
                case byte[] x -> { u64(x.length); for (byte v : x) u8(v); }
                case short[] x -> { u64(x.length); for (short v : x) u16(v); }
                case int[] x -> { u64(x.length); for (int v : x) u32(v); }
                case long[] x -> { u64(x.length); for (long v : x) u64(v); }
                case float[] x -> { u64(x.length); for (float v : x) u32(Float.floatToRawIntBits(v)); }
                case double[] x -> { u64(x.length); for (double v : x) u64(Double.doubleToRawLongBits(v)); }
                case boolean[] x -> { u64(x.length); for (boolean v : x) u8(v ? 1 : 0); }
                case String[] x -> { u64(x.length); for (String v : x) str(v); }
                case Object[] x -> { u64(x.length); for (Object v : x) array(elementTypeOf(v), v); }
                default -> throw new AssertionError(a.getClass());
            }
        }
    }

    /** Buffers tensor bytes into large writes and counts them. */
    private static final class Sink implements TensorSink {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long written;

        Sink(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public void write(ByteBuffer bytes) throws IOException {
            written += bytes.remaining();
            while (bytes.hasRemaining()) {
                if (!buf.hasRemaining()) {
                    drain();
                }
                int n = Math.min(buf.remaining(), bytes.remaining());
                ByteBuffer slice = bytes.slice(bytes.position(), n);
                buf.put(slice);
                bytes.position(bytes.position() + n);
            }
        }

        void pad(long n) throws IOException {
            write(ByteBuffer.allocate((int) n));
        }

        private void drain() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void flush() throws IOException {
            drain();
        }
    }
}
