package dev.warmroute.cli;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.testing.TestModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {

    @Test
    void greedyGenerationPrintsLlama2csReferenceTextAndANewline() throws Exception {
        Path model = TestModel.referenceOrSkip();
        Path expected = TestModel.referenceFileOrSkip("stories260K-t0-n200.txt");
        Result r = run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "200",
                "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(expected) + System.lineSeparator(), r.out());
        assertTrue(r.err().contains("decode:") && r.err().contains("tok/s"), r.err());
    }

    @Test
    void aMissingModelIsOneLineWithoutAStackTrace(@TempDir Path dir) {
        Result r = run("generate", "--model", dir.resolve("nope.gguf").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nope.gguf does not exist"), r.err());
        assertTrue(!r.err().contains("at dev."), r.err());
    }

    @Test
    void aCorruptModelIsNamedWithTheOffset(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        Result r = run("generate", "--model", bad.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("offset 8") && r.err().contains("tensor_count"), r.err());
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() throws Exception {
        Path model = TestModel.path();
        Result r = run("generate", "--model", model.toString(), "--prompt", "a b c d e ".repeat(500));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("context length is 2048"), r.err());
    }

    @Test
    void benchEnginePrintsJsonWithBothRates() {
        Path model = TestModel.path();
        Result r = run("bench", "engine", "--model", model.toString(), "--prompt-tokens", "32", "--gen-tokens", "8",
                "--repetitions", "1", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"pp_tok_s\":") && r.out().contains("\"tg_tok_s\":"), r.out());
    }
}
