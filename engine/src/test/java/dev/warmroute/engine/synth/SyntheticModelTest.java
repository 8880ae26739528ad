package dev.warmroute.engine.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import dev.warmroute.engine.quant.ModelQuantizer;
import dev.warmroute.engine.tokenizer.GgufTokenizers;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticModelTest {

    @TempDir
    Path dir;

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void writesALlamaGgufWithLlamaCppKeysAndTensorNamesLabelledSynthetic() throws Exception {
        Path file = dir.resolve("tiny.gguf");
        new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 42, 256).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals("synthetic-tiny", f.getString("general.name"));
            assertTrue(f.getBoolean("warmroute.synthetic", false));
            assertEquals(256, f.getInt("llama.context_length"));
            assertEquals(64, f.getInt("llama.embedding_length"));
            assertEquals(2, f.getInt("llama.block_count"));
            assertEquals(192, f.getInt("llama.feed_forward_length"));
            assertEquals(4, f.getInt("llama.attention.head_count"));
            assertEquals(2, f.getInt("llama.attention.head_count_kv"));
            assertEquals(16, f.getInt("llama.rope.dimension_count"));
            assertEquals(1e-5f, f.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000f, f.getFloat("llama.rope.freq_base"));
            assertEquals(0, f.getInt("general.file_type"));

            List<String> expected = new ArrayList<>(List.of("token_embd.weight", "output_norm.weight"));
            for (int l = 0; l < 2; l++) {
                for (String n : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                        "ffn_gate", "ffn_down", "ffn_up")) {
                    expected.add("blk." + l + "." + n + ".weight");
                }
            }
            assertEquals(expected, List.copyOf(f.tensors().keySet()));
            assertArrayEquals(new long[] {64, 512}, f.tensor("token_embd.weight").dims());
            assertArrayEquals(new long[] {64, 32}, f.tensor("blk.0.attn_k.weight").dims());
            assertArrayEquals(new long[] {192, 64}, f.tensor("blk.1.ffn_down.weight").dims());
            assertArrayEquals(new long[] {64, 192}, f.tensor("blk.1.ffn_up.weight").dims());

            float[] norm = f.data(f.tensor("blk.0.ffn_norm.weight")).toArray(F32);
            for (float v : norm) {
                assertEquals(1f, v);
            }
            assertEquals(0.02, std(f.data(f.tensor("blk.0.ffn_gate.weight")).toArray(F32)), 0.002);
            assertEquals(1 / Math.sqrt(64), std(f.data(f.tensor("token_embd.weight")).toArray(F32)), 0.01);
            assertTrue(!f.tensors().containsKey("output.weight"), "the output matrix is tied to the embedding");
        }
    }

    @Test
    void itsVocabularyIsAWorkingSentencePieceTokenizer() throws Exception {
        Path file = dir.resolve("tiny.gguf");
        new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 1, 128).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            Tokenizer tok = GgufTokenizers.from(f);
            assertEquals(512, tok.vocabSize());
            assertEquals(1, tok.bos());
            assertEquals(2, tok.eos());
            String text = "Once upon a time, a synthetic model said: \"héllo\" 42!\n";
            int[] ids = tok.encode(text);
            assertEquals(text, tok.decode(ids));
            assertTrue(ids.length < text.length(), "merges should shorten the text: " + ids.length);
        }
        String[] tokens = SyntheticVocabulary.of(32000).tokens;
        Set<String> unique = new HashSet<>(List.of(tokens));
        assertEquals(32000, unique.size(), "duplicate pieces (llama.cpp refuses them)");
        assertEquals("<0x0A>", tokens[3 + 10]);
    }

    @Test
    void theSameSeedGivesTheSameFileAndAnotherSeedAnotherOne() throws Exception {
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf"), c = dir.resolve("c.gguf");
        new SyntheticModel(SyntheticShape.TINY, GgmlType.Q4_0, 7, 128).write(a);
        new SyntheticModel(SyntheticShape.TINY, GgmlType.Q4_0, 7, 128).write(b);
        new SyntheticModel(SyntheticShape.TINY, GgmlType.Q4_0, 8, 128).write(c);
        assertEquals(-1, Files.mismatch(a, b));
        assertNotEquals(-1, Files.mismatch(a, c));
    }

    @Test
    void aQuantisedSynthIsExactlyOurQuantiserAppliedToTheF32Synth() throws Exception {
        Path f32 = dir.resolve("f32.gguf"), q8 = dir.resolve("q8.gguf"), converted = dir.resolve("conv.gguf");
        new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 3, 128).write(f32);
        new SyntheticModel(SyntheticShape.TINY, GgmlType.Q8_0, 3, 128).write(q8);
        ModelQuantizer.quantize(f32, converted, GgmlType.Q8_0);
        try (GgufFile direct = GgufFile.open(q8); GgufFile conv = GgufFile.open(converted)) {
            assertEquals(7, direct.getInt("general.file_type"));
            assertEquals(direct.tensors().keySet(), conv.tensors().keySet());
            for (GgufTensorInfo t : direct.tensorList()) {
                GgufTensorInfo u = conv.tensor(t.name());
                assertEquals(t.type(), u.type(), t.name());
                assertEquals(t.dims().length == 1 ? GgmlType.F32 : GgmlType.Q8_0, t.type(), t.name());
                assertEquals(-1, direct.data(t).mismatch(conv.data(u)), t.name() + " differs");
            }
        }
    }

    @Test
    void invalidShapesAreRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticModel(SyntheticShape.custom(100, 2, 3, 3, 64, 512), GgmlType.F32, 1, 64));
        assertTrue(e.getMessage().contains("--dim 100 must be a multiple of --heads 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticModel(SyntheticShape.custom(48, 2, 4, 4, 64, 512), GgmlType.Q8_0, 1, 64));
        assertTrue(e.getMessage().contains("multiples of 32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticModel(SyntheticShape.custom(64, 2, 4, 3, 64, 512), GgmlType.F32, 1, 64));
        assertTrue(e.getMessage().contains("--kv-heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticModel(SyntheticShape.custom(64, 2, 4, 4, 64, 100), GgmlType.F32, 1, 64));
        assertTrue(e.getMessage().contains("--vocab 100"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 1, 0));
        assertTrue(e.getMessage().contains("--context"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SyntheticShape.named("7B"));
        assertTrue(e.getMessage().contains("'7B'"), e.getMessage());
        assertEquals(SyntheticShape.S110M, SyntheticShape.named("110m"));
    }

    @Test
    void namedShapesAreThoseOfTheStoriesModels() {
        assertEquals(288, SyntheticShape.S15M.dim());
        assertEquals(6, SyntheticShape.S15M.layers());
        assertEquals(768, SyntheticShape.S15M.hiddenDim());
        assertEquals(32000, SyntheticShape.S15M.vocab());
        assertEquals(768, SyntheticShape.S110M.dim());
        assertEquals(12, SyntheticShape.S110M.kvHeads());
        assertEquals(2048, SyntheticShape.S110M.hiddenDim());
        // llama2.c's stories110M and stories15M: 110M and 15M parameters with tied embeddings.
        assertEquals(110, Math.round(SyntheticShape.S110M.parameters() / 1e6));
        assertEquals(15, Math.round(SyntheticShape.S15M.parameters() / 1e6));
    }

    static double std(float[] v) {
        double s = 0, s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double m = s / v.length;
        return Math.sqrt(s2 / v.length - m * m);
    }
}
