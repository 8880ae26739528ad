package dev.warmroute.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.TestModels;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {

    @TempDir
    Path dir;

    @Test
    void metadataOfEveryTypeAndTensorsReadBackEqual() throws Exception {
        float[] weights = new float[64 * 3];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) Math.cos(i);
        }
        byte[] q8 = new byte[3 * 2 * 34];
        for (int i = 0; i < q8.length; i++) {
            q8[i] = (byte) (i * 7);
        }
        GgufWriter w = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 200)
                .put("i8", GgufValueType.INT8, -100)
                .put("u16", GgufValueType.UINT16, 60000)
                .put("i16", GgufValueType.INT16, -30000)
                .putUInt32("u32", 4000000000L)
                .putInt32("i32", -7)
                .putUInt64("u64", Long.MAX_VALUE)
                .put("i64", GgufValueType.INT64, -5L)
                .putFloat32("f32", 1e-5f)
                .put("f64", GgufValueType.FLOAT64, Math.PI)
                .putBool("bool", true)
                .putString("str", "héllo ▁ wörld")
                .putStrings("strs", new String[] {"<unk>", "", "▁the"})
                .putFloats("floats", new float[] {0f, -1.5f, Float.NaN})
                .putInt32s("ints", new int[] {1, -2, 3})
                .putArray("u8s", GgufValueType.UINT8, new byte[] {(byte) 255, 0})
                .putArray("longs", GgufValueType.UINT64, new long[] {1L, -1L})
                .putArray("bools", GgufValueType.BOOL, new boolean[] {true, false})
                .putArray("nested", GgufValueType.ARRAY, new Object[] {new int[] {1, 2}, new String[] {"a"}})
                .addTensor("w", GgmlType.F32, new long[] {64, 3}, sink -> sink.write(floats(weights)))
                .addTensor("q", GgmlType.Q8_0, new long[] {64, 3}, sink -> sink.write(ByteBuffer.wrap(q8)))
                .addTensor("norm", GgmlType.F32, new long[] {5}, sink -> sink.write(floats(new float[] {1, 2, 3, 4, 5})));
        Path file = dir.resolve("all.gguf");
        w.write(file);

        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(200, f.get("u8"));
            assertEquals(-100, f.get("i8"));
            assertEquals(60000, f.get("u16"));
            assertEquals(-30000, f.get("i16"));
            assertEquals(4000000000L, f.get("u32"));
            assertEquals(-7, f.get("i32"));
            assertEquals(Long.MAX_VALUE, f.get("u64"));
            assertEquals(-5L, f.get("i64"));
            assertEquals(1e-5f, f.get("f32"));
            assertEquals(Math.PI, f.get("f64"));
            assertEquals(true, f.get("bool"));
            assertEquals("héllo ▁ wörld", f.get("str"));
            assertArrayEquals(new String[] {"<unk>", "", "▁the"}, f.getStringArray("strs"));
            assertArrayEquals(new float[] {0f, -1.5f, Float.NaN}, f.getFloatArray("floats"));
            assertArrayEquals(new int[] {1, -2, 3}, f.getIntArray("ints"));
            assertArrayEquals(new int[] {255, 0}, f.getIntArray("u8s"));
            assertArrayEquals(new long[] {1L, -1L}, (long[]) f.get("longs"));
            assertEquals(GgufValueType.UINT64, f.arrayElementType("longs"));
            assertArrayEquals(new boolean[] {true, false}, (boolean[]) f.get("bools"));
            Object[] nested = (Object[]) f.get("nested");
            assertArrayEquals(new int[] {1, 2}, (int[]) nested[0]);
            assertArrayEquals(new String[] {"a"}, (String[]) nested[1]);
            assertEquals(GgufValueType.UINT16, f.valueType("u16"));

            assertEquals(List.of("w", "q", "norm"), List.copyOf(f.tensors().keySet()));
            GgufTensorInfo t = f.tensor("w");
            assertArrayEquals(new long[] {64, 3}, t.dims());
            assertEquals(GgmlType.F32, t.type());
            assertArrayEquals(weights, f.data(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)));
            assertArrayEquals(q8, f.data(f.tensor("q")).toArray(ValueLayout.JAVA_BYTE));
            for (GgufTensorInfo ti : f.tensorList()) {
                assertEquals(0, (f.dataOffset() + ti.offset()) % 32, ti.name() + " is not 32-byte aligned");
            }
        }
    }

    @Test
    void rewritingTheReferenceModelReproducesItByteForByte() throws Exception {
        Path ref = TestModels.referenceModelOrSkip();
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(ref)) {
            GgufWriter w = new GgufWriter();
            for (String key : f.metadata().keySet()) {
                w.copy(f, key);
            }
            for (GgufTensorInfo t : f.tensorList()) {
                w.addTensor(t.name(), t.type(), t.dims(), sink -> sink.write(f.data(t).asByteBuffer()));
            }
            w.write(copy);
        }
        assertEquals(-1, Files.mismatch(ref, copy), "the copy differs from the reference model");
    }

    @Test
    void aNonDefaultAlignmentIsRecordedAndHonoured() throws Exception {
        Path file = dir.resolve("a64.gguf");
        new GgufWriter().alignment(64).putString("general.architecture", "llama")
                .addTensor("a", GgmlType.F32, new long[] {3}, sink -> sink.write(floats(new float[] {1, 2, 3})))
                .addTensor("b", GgmlType.F32, new long[] {2}, sink -> sink.write(floats(new float[] {4, 5})))
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(64, f.alignment());
            assertEquals(64L, f.tensor("b").offset());
            assertEquals(0, f.dataOffset() % 64);
        }
    }

    @Test
    void tensorDataOfTheWrongSizeFailsAndLeavesNoFile() throws Exception {
        Path file = dir.resolve("bad.gguf");
        GgufWriter w = new GgufWriter().addTensor("w", GgmlType.F32, new long[] {4, 2},
                sink -> sink.write(floats(new float[7])));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.write(file));
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("32 bytes"), e.getMessage());
        assertFalse(Files.exists(file));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "temporary file left behind");
        }
    }

    @Test
    void invalidValuesAndShapesAreRefusedNamingTheKey() {
        GgufWriter w = new GgufWriter();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.put("x.count", GgufValueType.UINT8, 300));
        assertTrue(e.getMessage().contains("x.count"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> w.putUInt32("n", -1));
        assertTrue(e.getMessage().contains("UINT32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> w.putArray("arr", GgufValueType.FLOAT32, new int[] {1}));
        assertTrue(e.getMessage().contains("arr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.Q8_0, new long[] {40, 2}, sink -> {}));
        assertTrue(e.getMessage().contains("row length 40"), e.getMessage());
        w.addTensor("t", GgmlType.F32, new long[] {1}, sink -> {});
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GgmlType.F32, new long[] {1}, sink -> {}));
    }

    static ByteBuffer floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.flip();
    }
}
