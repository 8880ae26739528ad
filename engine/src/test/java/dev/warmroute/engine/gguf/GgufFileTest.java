package dev.warmroute.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.TestModels;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    @TempDir
    Path dir;

    private TestGgufBuilder sample(int version) {
        return new TestGgufBuilder(version)
                .string("general.architecture", "llama")
                .u32("llama.block_count", 5)
                .i32("signed", -7)
                .u8("small", 200)
                .i16("short", -3)
                .f32("llama.rope.freq_base", 10000f)
                .f64("double", 0.25)
                .bool("flag", true)
                .u64("big", 1L << 40)
                .stringArray("tokenizer.ggml.tokens", "<unk>", "a", "\u00e9t\u00e9")
                .floatArray("tokenizer.ggml.scores", 0f, -1.5f, 2f)
                .intArray("tokenizer.ggml.token_type", 2, 1, 1)
                .tensorF32("w", new float[] {1, 2, 3, 4, 5, 6}, 3, 2)
                .tensorF32("v", new float[] {7, 8}, 2);
    }

    @Test
    void readsEveryValueTypeAndTensorInVersions2And3() throws Exception {
        for (int version : new int[] {2, 3}) {
            Path file = sample(version).write(dir.resolve("v" + version + ".gguf"));
            try (GgufFile g = GgufFile.open(file)) {
                assertEquals(version, g.version());
                assertEquals("llama", g.getString("general.architecture"));
                assertEquals(5, g.getInt("llama.block_count"));
                assertEquals(GgufValueType.UINT32, g.valueType("llama.block_count"));
                assertEquals(-7, g.getInt("signed"));
                assertEquals(200, g.getInt("small"));
                assertEquals(-3, g.getInt("short"));
                assertEquals(10000f, g.getFloat("llama.rope.freq_base"));
                assertEquals(0.25f, g.getFloat("double"));
                assertTrue(g.getBoolean("flag", false));
                assertEquals(1L << 40, g.getLong("big"));
                assertArrayEquals(new String[] {"<unk>", "a", "\u00e9t\u00e9"}, g.getStringArray("tokenizer.ggml.tokens"));
                assertArrayEquals(new float[] {0f, -1.5f, 2f}, g.getFloatArray("tokenizer.ggml.scores"));
                assertArrayEquals(new int[] {2, 1, 1}, g.getIntArray("tokenizer.ggml.token_type"));
                assertEquals(GgufValueType.INT32, g.arrayElementType("tokenizer.ggml.token_type"));
                GgufTensorInfo w = g.tensor("w");
                assertArrayEquals(new long[] {3, 2}, w.dims());
                assertEquals(GgmlType.F32, w.type());
                assertEquals(0, g.dataOffset() % 32);
                var seg = g.data(w);
                float[] data = seg.toArray(ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN));
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, data);
                float[] v = g.data(g.tensor("v")).toArray(ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN));
                assertArrayEquals(new float[] {7, 8}, v);
            }
        }
    }

    @Test
    void honoursACustomAlignment() throws Exception {
        Path file = new TestGgufBuilder(3).alignment(64).tensorF32("a", new float[] {1}, 1)
                .tensorF32("b", new float[] {2}, 1).write(dir.resolve("a.gguf"));
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            assertEquals(64, g.tensor("b").offset());
        }
    }

    @Test
    void everyTruncationIsReportedWithAnOffsetAndField() throws Exception {
        byte[] full = sample(3).build();
        // Cut at many points (every byte of the header, then a few inside the data): always a clear GgufException.
        int endOfData = full.length - 32 + 8; // the last tensor ("v", 8 bytes) is followed by alignment padding
        for (int cut = 0; cut < endOfData; cut += cut < 600 ? 1 : 7) {
            Path file = dir.resolve("cut.gguf");
            Files.write(file, Arrays.copyOf(full, cut));
            int at = cut;
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file).close(), "cut at " + at);
            String m = e.getMessage();
            assertTrue(m.contains("cut.gguf"), m);
            assertTrue(m.contains("offset") || m.contains("empty file") || m.contains("truncated")
                    || m.contains("ends"), "cut at " + at + ": " + m);
        }
    }

    @Test
    void truncatedTensorDataNamesTheTensor() throws Exception {
        byte[] full = sample(3).build();
        Path file = dir.resolve("short.gguf");
        Files.write(file, Arrays.copyOf(full, full.length - 40));
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("tensor v") || e.getMessage().contains("tensor w"), e.getMessage());
    }

    @Test
    void badMagicSaysItIsNotAGgufFile() throws Exception {
        Path file = dir.resolve("text.gguf");
        Files.writeString(file, "hello, this is not a model file at all");
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        assertTrue(e.getMessage().contains("offset 0"), e.getMessage());
    }

    @Test
    void unsupportedVersionsAreNamed() throws Exception {
        for (int version : new int[] {1, 4}) {
            Path file = new TestGgufBuilder(version).write(dir.resolve("v.gguf"));
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
            assertTrue(e.getMessage().contains("version " + version), e.getMessage());
            assertTrue(e.getMessage().contains("offset 4"), e.getMessage());
        }
    }

    @Test
    void unknownValueTypeNamesTheKey() throws Exception {
        Path file = new TestGgufBuilder(3).raw("weird.key", 99, new byte[8]).write(dir.resolve("t.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("weird.key") && e.getMessage().contains("99"), e.getMessage());
    }

    @Test
    void unknownTensorTypeNamesTheTensor() throws Exception {
        Path file = new TestGgufBuilder(3).tensor("blk.0.attn_q.weight", 77, new byte[32], 8)
                .write(dir.resolve("t.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("77"), e.getMessage());
    }

    @Test
    void absurdCountsAreRejectedBeforeAllocating() throws Exception {
        byte[] b = new TestGgufBuilder(3).string("k", "v").build();
        // tensor_count at offset 8: set to 2^40
        b[8 + 5] = 1;
        Path file = dir.resolve("huge.gguf");
        Files.write(file, b);
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("tensor_count"), e.getMessage());
    }

    @Test
    void missingFileIsNamed() {
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(dir.resolve("nope.gguf")));
        assertTrue(e.getMessage().contains("nope.gguf") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void missingOrMistypedMetadataIsNamed() throws Exception {
        Path file = sample(3).write(dir.resolve("m.gguf"));
        try (GgufFile g = GgufFile.open(file)) {
            GgufException missing = assertThrows(GgufException.class, () -> g.getInt("llama.embedding_length"));
            assertTrue(missing.getMessage().contains("llama.embedding_length"), missing.getMessage());
            GgufException wrong = assertThrows(GgufException.class, () -> g.getInt("general.architecture"));
            assertTrue(wrong.getMessage().contains("general.architecture") && wrong.getMessage().contains("STRING"),
                    wrong.getMessage());
        }
    }

    @Test
    void readsTheReferenceModel() {
        Path model = TestModels.referenceModelOrSkip();
        try (GgufFile g = GgufFile.open(model)) {
            assertEquals("llama", g.getString("general.architecture"));
            assertEquals(512, g.getStringArray("tokenizer.ggml.tokens").length);
            assertTrue(g.tensors().containsKey("token_embd.weight"));
        }
    }
}
