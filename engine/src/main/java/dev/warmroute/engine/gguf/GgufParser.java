package dev.warmroute.engine.gguf;

import static dev.warmroute.engine.gguf.GgufFile.DEFAULT_ALIGNMENT;
import static dev.warmroute.engine.gguf.GgufFile.MAGIC;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The GGUF parser: a sequential reader over the mapping (header, metadata of every value type, tensor table);
 * every read checks the remaining length and names the field and the byte offset.
 */
final class GgufParser {
    private static final int MAX_DIMS = 4;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Path path;
    final MemorySegment seg;
    final long size;
    long pos;
    int version;
    long alignment = DEFAULT_ALIGNMENT;
    long dataOffset;
    final Map<String, Object> metadata = new LinkedHashMap<>();
    final Map<String, GgufValueType> types = new LinkedHashMap<>();
    final Map<String, GgufValueType> arrayTypes = new LinkedHashMap<>();
    final Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();

    GgufParser(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    void parse() {
        int magic = i32("magic");
        if (magic != MAGIC) {
            throw fail(0, "magic", String.format("not a GGUF file: magic is 0x%08x, expected 0x%08x (\"GGUF\")",
                    magic, MAGIC));
        }
        long versionAt = pos;
        version = i32("version");
        if (version == 1) {
            throw fail(versionAt, "version", "GGUF version 1 is not supported (versions 2 and 3 are)");
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (a big-endian GGUF file; only little-endian files are supported)" : "";
            throw fail(versionAt, "version", "unsupported GGUF version " + Integer.toUnsignedString(version)
                    + hint + "; versions 2 and 3 are supported");
        }
        long countAt = pos;
        long tensorCount = u64("tensor_count");
        long kvAt = pos;
        long kvCount = u64("metadata_kv_count");
        // Cheap plausibility checks before looping: each entry takes at least 8 (+4+...) bytes.
        if (tensorCount < 0 || tensorCount > (size - pos) / 24) {
            throw fail(countAt, "tensor_count", "tensor count " + Long.toUnsignedString(tensorCount)
                    + " is impossible for a file of " + size + " bytes");
        }
        if (kvCount < 0 || kvCount > (size - pos) / 13) {
            throw fail(kvAt, "metadata_kv_count", "metadata count " + Long.toUnsignedString(kvCount)
                    + " is impossible for a file of " + size + " bytes");
        }
        for (long i = 0; i < kvCount; i++) {
            long at = pos;
            String key = string("metadata[" + i + "].key");
            if (metadata.containsKey(key)) {
                throw fail(at, "metadata[" + i + "].key", "duplicate metadata key " + key);
            }
            long typeAt = pos;
            int typeId = i32("metadata " + key + " type");
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw fail(typeAt, "metadata " + key + " type", "unknown value type " + typeId);
            }
            types.put(key, type);
            metadata.put(key, value(type, key));
        }
        if (metadata.containsKey("general.alignment")) {
            Object a = metadata.get("general.alignment");
            long align = a instanceof Number n ? n.longValue() : -1;
            if (align <= 0 || Long.bitCount(align) != 1) {
                throw new GgufException(path + ": metadata general.alignment = " + a
                        + " is not a positive power of two");
            }
            alignment = align;
        }
        for (long i = 0; i < tensorCount; i++) {
            tensorInfo(i);
        }
        dataOffset = align(pos, alignment);
        if (dataOffset > size && tensorCount > 0) {
            throw fail(pos, "tensor data", "file ends before the tensor data section (needs offset "
                    + dataOffset + ")");
        }
        for (GgufTensorInfo t : tensors.values()) {
            long end = dataOffset + t.offset() + t.byteSize();
            if (end > size || end < 0) {
                throw new GgufException(path + ": truncated: tensor " + t.name() + " (" + t.type() + ", "
                        + t.byteSize() + " bytes at data offset " + t.offset() + ") ends at byte " + end
                        + " but the file has " + size + " bytes");
            }
        }
    }

    private void tensorInfo(long i) {
        long at = pos;
        String name = string("tensor[" + i + "].name");
        if (tensors.containsKey(name)) {
            throw fail(at, "tensor[" + i + "].name", "duplicate tensor name " + name);
        }
        long dimsAt = pos;
        int nDims = i32("tensor " + name + " n_dims");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw fail(dimsAt, "tensor " + name + " n_dims", "n_dims " + nDims + " outside 1.." + MAX_DIMS);
        }
        long[] dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long dAt = pos;
            dims[d] = u64("tensor " + name + " dims[" + d + "]");
            if (dims[d] <= 0 || dims[d] > (1L << 40)) {
                throw fail(dAt, "tensor " + name + " dims[" + d + "]", "dimension "
                        + Long.toUnsignedString(dims[d]) + " out of range");
            }
            elements = Math.multiplyHigh(elements, dims[d]) != 0 ? -1 : elements * dims[d];
            if (elements < 0 || elements > (1L << 48)) {
                throw fail(dAt, "tensor " + name + " dims", "element count overflows");
            }
        }
        long typeAt = pos;
        int typeId = i32("tensor " + name + " type");
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw fail(typeAt, "tensor " + name + " type", "unknown tensor type id " + typeId);
        }
        if (dims[0] % type.blockSize() != 0) {
            throw fail(typeAt, "tensor " + name + " type", "row length " + dims[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long offAt = pos;
        long offset = u64("tensor " + name + " offset");
        if (offset < 0 || offset % alignment != 0) {
            throw fail(offAt, "tensor " + name + " offset", "data offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment);
        }
        tensors.put(name, new GgufTensorInfo(name, dims, type, offset));
    }

    private Object value(GgufValueType type, String key) {
        String field = "metadata " + key;
        return switch (type) {
            case UINT8 -> u8(field) & 0xFF;
            case INT8 -> (int) u8(field);
            case UINT16 -> i16(field) & 0xFFFF;
            case INT16 -> (int) i16(field);
            case UINT32 -> Integer.toUnsignedLong(i32(field));
            case INT32 -> i32(field);
            case FLOAT32 -> f32(field);
            case BOOL -> bool(field);
            case STRING -> string(field);
            case UINT64, INT64 -> u64(field);
            case FLOAT64 -> f64(field);
            case ARRAY -> array(key, field);
        };
    }

    private Object array(String key, String field) {
        long typeAt = pos;
        int typeId = i32(field + " element type");
        GgufValueType et = GgufValueType.byId(typeId);
        if (et == null) {
            throw fail(typeAt, field + " element type", "unknown array element type " + typeId);
        }
        arrayTypes.putIfAbsent(key, et);
        long countAt = pos;
        long n = u64(field + " count");
        long minSize = et.size() > 0 ? et.size() : (et == GgufValueType.STRING ? 8 : 12);
        if (n < 0 || n > (size - pos) / minSize || n > Integer.MAX_VALUE - 8) {
            throw fail(countAt, field + " count", "array of " + Long.toUnsignedString(n) + " " + et
                    + " does not fit in the " + (size - pos) + " bytes left");
        }
        int count = (int) n;
        switch (et) {
            case UINT8, INT8 -> {
                check(count, field);
                byte[] a = new byte[count];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, count);
                pos += count;
                return a;
            }
            case UINT16, INT16 -> {
                check(2L * count, field);
                short[] a = new short[count];
                MemorySegment.copy(seg, SHORT, pos, a, 0, count);
                pos += 2L * count;
                return a;
            }
            case UINT32, INT32 -> {
                check(4L * count, field);
                int[] a = new int[count];
                MemorySegment.copy(seg, INT, pos, a, 0, count);
                pos += 4L * count;
                return a;
            }
            case UINT64, INT64 -> {
                check(8L * count, field);
                long[] a = new long[count];
                MemorySegment.copy(seg, LONG, pos, a, 0, count);
                pos += 8L * count;
                return a;
            }
            case FLOAT32 -> {
                check(4L * count, field);
                float[] a = new float[count];
                MemorySegment.copy(seg, FLOAT, pos, a, 0, count);
                pos += 4L * count;
                return a;
            }
            case FLOAT64 -> {
                check(8L * count, field);
                double[] a = new double[count];
                MemorySegment.copy(seg, DOUBLE, pos, a, 0, count);
                pos += 8L * count;
                return a;
            }
            case BOOL -> {
                boolean[] a = new boolean[count];
                for (int i = 0; i < count; i++) {
                    a[i] = bool(field + "[" + i + "]");
                }
                return a;
            }
            case STRING -> {
                String[] a = new String[count];
                for (int i = 0; i < count; i++) {
                    a[i] = string(field + "[" + i + "]");
                }
                return a;
            }
            case ARRAY -> {
                Object[] a = new Object[count];
                for (int i = 0; i < count; i++) {
                    a[i] = array(key + "[" + i + "]", field + "[" + i + "]");
                }
                return a;
            }
            default -> throw new AssertionError(et);
        }
    }

    private void check(long bytes, String field) {
        if (bytes < 0 || pos + bytes > size) {
            throw fail(pos, field, "truncated: needs " + bytes + " bytes but the file ends at byte " + size);
        }
    }

    private byte u8(String field) {
        check(1, field);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private boolean bool(String field) {
        long at = pos;
        byte b = u8(field);
        if (b != 0 && b != 1) {
            throw fail(at, field, "boolean byte is " + (b & 0xFF) + ", expected 0 or 1");
        }
        return b == 1;
    }

    private short i16(String field) {
        check(2, field);
        short v = seg.get(SHORT, pos);
        pos += 2;
        return v;
    }

    private int i32(String field) {
        check(4, field);
        int v = seg.get(INT, pos);
        pos += 4;
        return v;
    }

    private long u64(String field) {
        check(8, field);
        long v = seg.get(LONG, pos);
        pos += 8;
        return v;
    }

    private float f32(String field) {
        check(4, field);
        float v = seg.get(FLOAT, pos);
        pos += 4;
        return v;
    }

    private double f64(String field) {
        check(8, field);
        double v = seg.get(DOUBLE, pos);
        pos += 8;
        return v;
    }

    private String string(String field) {
        long at = pos;
        long len = u64(field + " length");
        if (len < 0 || len > size - pos) {
            throw fail(at, field, "string length " + Long.toUnsignedString(len) + " exceeds the "
                    + (size - pos) + " bytes left in the file");
        }
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    private GgufException fail(long offset, String field, String what) {
        return new GgufException(path + ": " + what + " (at byte offset " + offset + ", field " + field + ")");
    }

    private static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }
}
