package dev.warmroute.engine.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds GGUF bytes for tests (small files, corrupt variants). Deliberately independent of the production writer so
 * that reader and writer do not share a misunderstanding of the format.
 */
public final class TestGgufBuilder {

    private final int version;
    private long alignment = 32;
    private final List<byte[]> kvs = new ArrayList<>();
    private final List<Object[]> tensors = new ArrayList<>(); // name, dims(long[]), type id, data(byte[])

    public TestGgufBuilder(int version) {
        this.version = version;
    }

    public TestGgufBuilder alignment(long a) {
        this.alignment = a;
        return u32("general.alignment", (int) a);
    }

    public TestGgufBuilder string(String key, String value) {
        Buf b = new Buf().str(key).i32(8).str(value);
        kvs.add(b.bytes());
        return this;
    }

    public TestGgufBuilder u32(String key, int value) {
        kvs.add(new Buf().str(key).i32(4).i32(value).bytes());
        return this;
    }

    public TestGgufBuilder i32(String key, int value) {
        kvs.add(new Buf().str(key).i32(5).i32(value).bytes());
        return this;
    }

    public TestGgufBuilder f32(String key, float value) {
        kvs.add(new Buf().str(key).i32(6).f32(value).bytes());
        return this;
    }

    public TestGgufBuilder bool(String key, boolean value) {
        kvs.add(new Buf().str(key).i32(7).u8(value ? 1 : 0).bytes());
        return this;
    }

    public TestGgufBuilder u64(String key, long value) {
        kvs.add(new Buf().str(key).i32(10).i64(value).bytes());
        return this;
    }

    public TestGgufBuilder f64(String key, double value) {
        kvs.add(new Buf().str(key).i32(12).i64(Double.doubleToRawLongBits(value)).bytes());
        return this;
    }

    public TestGgufBuilder u8(String key, int value) {
        kvs.add(new Buf().str(key).i32(0).u8(value).bytes());
        return this;
    }

    public TestGgufBuilder i16(String key, int value) {
        kvs.add(new Buf().str(key).i32(3).i16(value).bytes());
        return this;
    }

    public TestGgufBuilder stringArray(String key, String... values) {
        Buf b = new Buf().str(key).i32(9).i32(8).i64(values.length);
        for (String v : values) {
            b.str(v);
        }
        kvs.add(b.bytes());
        return this;
    }

    public TestGgufBuilder floatArray(String key, float... values) {
        Buf b = new Buf().str(key).i32(9).i32(6).i64(values.length);
        for (float v : values) {
            b.f32(v);
        }
        kvs.add(b.bytes());
        return this;
    }

    public TestGgufBuilder intArray(String key, int... values) {
        Buf b = new Buf().str(key).i32(9).i32(5).i64(values.length);
        for (int v : values) {
            b.i32(v);
        }
        kvs.add(b.bytes());
        return this;
    }

    /** A raw key/value with an arbitrary type id and payload (for corrupt-file tests). */
    public TestGgufBuilder raw(String key, int typeId, byte[] payload) {
        Buf b = new Buf().str(key).i32(typeId);
        b.out.writeBytes(payload);
        kvs.add(b.bytes());
        return this;
    }

    /** A tensor of floats; dims in ggml order (dims[0] = row length). */
    public TestGgufBuilder tensorF32(String name, float[] data, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            bb.putFloat(f);
        }
        return tensor(name, 0, bb.array(), dims);
    }

    public TestGgufBuilder tensor(String name, int typeId, byte[] data, long... dims) {
        tensors.add(new Object[] {name, dims, typeId, data});
        return this;
    }

    public byte[] build() {
        Buf b = new Buf().i32(0x46554747).i32(version).i64(tensors.size()).i64(kvs.size());
        for (byte[] kv : kvs) {
            b.out.writeBytes(kv);
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Object[] t : tensors) {
            offsets.add(offset);
            offset = align(offset + ((byte[]) t[3]).length);
        }
        for (int i = 0; i < tensors.size(); i++) {
            Object[] t = tensors.get(i);
            long[] dims = (long[]) t[1];
            b.str((String) t[0]).i32(dims.length);
            for (long d : dims) {
                b.i64(d);
            }
            b.i32((Integer) t[2]).i64(offsets.get(i));
        }
        while (b.out.size() % alignment != 0) {
            b.u8(0);
        }
        for (Object[] t : tensors) {
            byte[] data = (byte[]) t[3];
            b.out.writeBytes(data);
            while (b.out.size() % alignment != 0) {
                b.u8(0);
            }
        }
        return b.bytes();
    }

    public Path write(Path file) throws IOException {
        Files.write(file, build());
        return file;
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    static final class Buf {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Buf u8(int v) {
            out.write(v);
            return this;
        }

        Buf i16(int v) {
            out.write(v);
            out.write(v >>> 8);
            return this;
        }

        Buf i32(int v) {
            for (int i = 0; i < 4; i++) {
                out.write(v >>> (8 * i));
            }
            return this;
        }

        Buf i64(long v) {
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Buf f32(float f) {
            return i32(Float.floatToRawIntBits(f));
        }

        Buf str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
