package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.tensor.Simd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker without 512-bit vectors runs the scalar kernels; failover between it and a vector worker must still give
 * the same answer. So the whole forward pass in a JVM with {@code -Dwarmroute.engine.vector=false} must produce the
 * same logits, bit for bit, as the vector kernels here.
 */
class ScalarTwinTest {

    @TempDir
    Path dir;

    /** Logits of a prefill of 40 tokens and 4 greedy steps, as raw float bits. */
    static byte[] logits(Path model) {
        try (Model m = Model.load(model, EngineOptions.builder().threads(2).build())) {
            KvCache c = m.newCache(new KvBlockPool(m.config(), m.kvBytesPerToken() * 64));
            int[] prompt = new int[40];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 37 + 11) % m.config().vocabSize();
            }
            List<float[]> all = new ArrayList<>();
            float[] l = m.forward(c, prompt, 0, prompt.length);
            all.add(l);
            for (int i = 0; i < 4; i++) {
                l = m.forward(c, Sampler.argmax(l));
                all.add(l);
            }
            ByteBuffer bb = ByteBuffer.allocate(all.size() * l.length * 4);
            for (float[] a : all) {
                for (float f : a) {
                    bb.putInt(Float.floatToRawIntBits(f));
                }
            }
            return bb.array();
        }
    }

    /** Entry point of the forked JVM: writes the logits of each model to model + ".bits". */
    public static void main(String[] args) throws IOException {
        if (Simd.VECTOR) {
            throw new IllegalStateException("expected the scalar kernels (-Dwarmroute.engine.vector=false)");
        }
        for (String a : args) {
            Files.write(Path.of(a + ".bits"), logits(Path.of(a)));
        }
    }

    @Test
    void scalarKernelsInAnotherJvmGiveTheSameLogitsBitForBit() throws Exception {
        Assumptions.assumeTrue(Simd.VECTOR, "this JVM runs the scalar kernels itself; nothing to compare");
        List<Path> models = List.of(RandomLlama.write(dir.resolve("f32.gguf"), "f32", 21),
                RandomLlama.write(dir.resolve("q8.gguf"), "q8_0", 22),
                RandomLlama.write(dir.resolve("q4.gguf"), "q4_0", 23));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dwarmroute.engine.vector=false",
                "-cp", System.getProperty("java.class.path"), ScalarTwinTest.class.getName()));
        models.forEach(p -> cmd.add(p.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("fork.log").toFile())
                .start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "scalar JVM did not finish");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("fork.log")));
        for (Path model : models) {
            byte[] vector = logits(model);
            byte[] scalar = Files.readAllBytes(Path.of(model + ".bits"));
            assertEquals(vector.length, scalar.length);
            for (int i = 0; i < vector.length; i += 4) {
                if (ByteBuffer.wrap(vector, i, 4).getInt() != ByteBuffer.wrap(scalar, i, 4).getInt()) {
                    throw new AssertionError(model.getFileName() + ": logit float #" + i / 4
                            + " differs between vector and scalar kernels");
                }
            }
        }
    }
}
