package dev.warmroute.cli;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.testing.TestModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCommandTest {

    @TempDir
    Path dir;

    @Test
    void synthThenInfoShowsASyntheticModel() {
        Path file = dir.resolve("tiny-q8.gguf");
        Result r = run("model", "synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", "--context", "512",
                "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("synthetic-tiny, q8_0"), r.out());
        Result info = run("model", "info", "--model", file.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("synthetic      yes (random weights, shape tiny, seed 5)"), info.out());
        assertTrue(info.out().contains("dim 64, layers 2, heads 4, kv heads 2, head dim 16, hidden 192, context 512"),
                info.out());
        assertTrue(info.out().contains("blk.1.ffn_down.weight"), info.out());
        // 2 layers x (K + V) x 2 kv heads x 16 dims x 4 bytes = 512 bytes per position.
        assertTrue(info.out().contains("kv cache       512 B per token position"), info.out());
        assertTrue(info.out().matches("(?s).*tensor types\\s+F32 5 .*Q8_0 15 .*"), info.out());
    }

    @Test
    void customShapeOverridesTheNamedOne() throws Exception {
        Path file = dir.resolve("custom.gguf");
        Result r = run("model", "synth", "--shape", "tiny", "--dim", "128", "--heads", "8", "--kv-heads", "8",
                "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals("synthetic-d128-l2", f.getString("general.name"));
            assertEquals(128, f.getInt("llama.embedding_length"));
            assertEquals(8, f.getInt("llama.attention.head_count_kv"));
            assertEquals(2048, f.getInt("llama.context_length"));
        }
    }

    @Test
    void quantizeTheReferenceModelToQ8_0AndInfoReadsIt() throws Exception {
        Path out = dir.resolve("ref-q8.gguf");
        Result r = run("model", "quantize", "--in", TestModel.referenceOrSkip().toString(), "--type", "q8_0",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("32 of 48 tensors converted to q8_0 (11 norms kept F32)"), r.out());
        assertTrue(r.out().contains("blk.0.ffn_down.weight") && r.out().contains("not a multiple of 32"), r.out());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(GgmlType.Q8_0, f.tensor("blk.3.attn_q.weight").type());
            assertEquals(7, f.getInt("general.file_type"));
        }
        Result info = run("model", "info", "--model", out.toString(), "--no-tensors");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("general.file_type"), info.out());
        assertFalse(info.out().contains("offset"), info.out());
    }

    @Test
    void userMistakesGetOneLineNamingTheProblem() throws Exception {
        Result missing = run("model", "info", "--model", dir.resolve("nope.gguf").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope.gguf does not exist"), missing.err());
        assertFalse(missing.err().contains("Exception"), missing.err());

        Path garbage = Files.writeString(dir.resolve("garbage.gguf"), "this is not a model");
        Result corrupt = run("model", "info", "--model", garbage.toString());
        assertEquals(2, corrupt.code());
        assertTrue(corrupt.err().contains("not a GGUF file"), corrupt.err());

        Result shape = run("model", "synth", "--shape", "tiny", "--heads", "3", "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, shape.code());
        assertTrue(shape.err().contains("--dim 64 must be a multiple of --heads 3"), shape.err());

        Path exists = Files.writeString(dir.resolve("exists.gguf"), "x");
        Result noForce = run("model", "synth", "--shape", "tiny", "--out", exists.toString());
        assertEquals(2, noForce.code());
        assertTrue(noForce.err().contains("pass --force"), noForce.err());

        Result badType = run("model", "quantize", "--in", garbage.toString(), "--type", "q5_k",
                "--out", dir.resolve("y.gguf").toString());
        assertEquals(2, badType.code());
        assertTrue(badType.err().contains("--type"), badType.err());
    }
}
