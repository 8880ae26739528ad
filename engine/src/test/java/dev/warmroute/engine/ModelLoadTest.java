package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.gguf.TestGgufBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one clear message naming what is wrong (file, field, offset, limit). */
class ModelLoadTest {

    @TempDir
    Path dir;

    private ModelLoadException fails(Path p) {
        return assertThrows(ModelLoadException.class, () -> Model.load(p).close());
    }

    @Test
    void readsConfigAndIdFromTheFile() throws Exception {
        Path p = RandomLlama.write(dir.resolve("tiny-q8_0.gguf"), "q8_0", 1);
        try (Model m = Model.load(p)) {
            ModelConfig c = m.config();
            assertEquals(RandomLlama.DIM, c.dim());
            assertEquals(RandomLlama.KV_HEADS, c.kvHeads());
            assertEquals(32, c.headDim());
            assertEquals("q8_0", c.weightType());
            assertTrue(m.synthetic());
            assertFalse(m.tiedOutput());
            assertTrue(m.id().startsWith("tiny-q8_0-"), m.id());
        }
        try (Model again = Model.load(p)) {
            assertTrue(again.id().equals(Model.load(p).id()), "id is stable for the same file");
        }
    }

    @Test
    void missingFileIsNamed() {
        ModelLoadException e = fails(dir.resolve("absent.gguf"));
        assertTrue(e.getMessage().contains("absent.gguf") && e.getMessage().contains("does not exist"),
                e.getMessage());
    }

    @Test
    void truncatedFileNamesWhereItEnds() throws Exception {
        byte[] full = RandomLlama.builder("f32", 1, "llama").build();
        Path p = dir.resolve("cut.gguf");
        Files.write(p, Arrays.copyOf(full, full.length / 2));
        ModelLoadException e = fails(p);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor "), e.getMessage());
        Files.write(p, Arrays.copyOf(full, 200));
        ModelLoadException header = fails(p);
        assertTrue(header.getMessage().contains("offset"), header.getMessage());
    }

    @Test
    void unknownArchitectureIsNamed() throws Exception {
        Path p = RandomLlama.builder("f32", 1, "mamba").write(dir.resolve("mamba.gguf"));
        ModelLoadException e = fails(p);
        assertTrue(e.getMessage().contains("'mamba'") && e.getMessage().contains("general.architecture"),
                e.getMessage());
    }

    @Test
    void unsupportedTensorTypeIsNamed() throws Exception {
        // a valid ggml type this engine does not run: Q4_K (id 12), 256-element blocks of 144 bytes
        Path p = new TestGgufBuilder(3)
                .string("general.architecture", "llama")
                .u32("llama.context_length", 64).u32("llama.embedding_length", 256)
                .u32("llama.feed_forward_length", 256).u32("llama.block_count", 1)
                .u32("llama.attention.head_count", 4)
                .tensorF32("token_embd.weight", new float[256 * 4], 256, 4)
                .tensorF32("blk.0.attn_norm.weight", new float[256], 256)
                .tensor("blk.0.attn_q.weight", 12, new byte[256 * 144], 256, 256)
                .write(dir.resolve("k.gguf"));
        ModelLoadException e = fails(p);
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("Q4_K"),
                e.getMessage());
    }

    @Test
    void missingMetadataAndTensorsAreNamed() throws Exception {
        Path p = new TestGgufBuilder(3).string("general.architecture", "llama")
                .u32("llama.embedding_length", 64).write(dir.resolve("meta.gguf"));
        ModelLoadException e = fails(p);
        assertTrue(e.getMessage().contains("llama.feed_forward_length"), e.getMessage());

        Path q = new TestGgufBuilder(3).string("general.architecture", "llama")
                .u32("llama.context_length", 64).u32("llama.embedding_length", 32)
                .u32("llama.feed_forward_length", 64).u32("llama.block_count", 1)
                .u32("llama.attention.head_count", 4)
                .tensorF32("token_embd.weight", new float[32 * 4], 32, 4)
                .write(dir.resolve("t.gguf"));
        ModelLoadException t = fails(q);
        assertTrue(t.getMessage().contains("blk.0.attn_norm.weight") && t.getMessage().contains("missing"),
                t.getMessage());
    }

    @Test
    void wrongTensorShapeIsNamed() throws Exception {
        Path p = new TestGgufBuilder(3).string("general.architecture", "llama")
                .u32("llama.context_length", 64).u32("llama.embedding_length", 32)
                .u32("llama.feed_forward_length", 64).u32("llama.block_count", 1)
                .u32("llama.attention.head_count", 4)
                .tensorF32("token_embd.weight", new float[32 * 4], 32, 4)
                .tensorF32("blk.0.attn_norm.weight", new float[32], 32)
                .tensorF32("blk.0.attn_q.weight", new float[32 * 16], 16, 32)
                .write(dir.resolve("s.gguf"));
        ModelLoadException e = fails(p);
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("[16, 32]")
                && e.getMessage().contains("expected [32, 32]"), e.getMessage());
    }

    @Test
    void engineOptionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.builder().threads(-1));
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.builder().prefillChunk(0).build());
        assertTrue(EngineOptions.builder().build().threads() >= 1);
    }
}
