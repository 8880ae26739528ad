package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.tensor.Simd;
import dev.warmroute.engine.tensor.VectorWidth;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers on AVX-512, AVX2, NEON and scalar-only machines must give the same answer token for token, or a fallback
 * between them changes it. So the whole forward pass runs at every vector width this machine supports (512, 256, 128
 * where the hardware has them, and scalar), each in a JVM of its own started with {@code -Dwarmroute.engine.vector},
 * on the reference model and random F32, F16, BF16, Q8_0 and Q4_0 models, and the logits must be equal bit for bit
 * across all of them. Each of those JVMs also runs the golden test and the cache invariant (reference, F32, F16, Q8_0,
 * Q4_0) at its width.
 */
class SameBitsAtEveryWidthTest {

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

    /**
     * Entry point of a forked JVM: args = expected width, output directory, then model files (the reference model
     * first when "--reference" precedes it). Writes each model's logits to out/(file name).bits, then runs the golden
     * test and the cache invariant at this width.
     */
    public static void main(String[] args) throws IOException {
        VectorWidth expected = VectorWidth.valueOf(args[0]);
        if (Simd.WIDTH != expected) {
            throw new IllegalStateException("this JVM runs " + Simd.WIDTH + " kernels, expected " + expected);
        }
        Path out = Path.of(args[1]);
        Path reference = null;
        List<Path> models = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--reference")) {
                reference = Path.of(args[++i]);
                models.add(reference);
            } else {
                models.add(Path.of(args[i]));
            }
        }
        for (Path m : models) {
            Files.write(out.resolve(m.getFileName() + ".bits"), logits(m));
        }
        if (reference != null) {
            GoldenTest.check(reference);
        }
        for (Path m : models) {
            if (!m.getFileName().toString().startsWith("bf16")) { // BF16 runs F16's code: its logits suffice
                CacheInvariantTest.check(m);
            }
        }
        System.out.println("ok: " + Simd.describe());
    }

    @Test
    void everyWidthGivesTheSameLogitsBitForBit() throws Exception {
        List<Path> models = new ArrayList<>(List.of(RandomLlama.write(dir.resolve("f32.gguf"), "f32", 21),
                RandomLlama.write(dir.resolve("q8_0.gguf"), "q8_0", 22),
                RandomLlama.write(dir.resolve("q4_0.gguf"), "q4_0", 23),
                RandomLlama.write(dir.resolve("f16.gguf"), "f16", 24),
                RandomLlama.write(dir.resolve("bf16.gguf"), "bf16", 25)));
        // The reference model joins when the shared folder has it and its expected output (ModelLocator's lookup).
        Path reference = ModelLocator.findReferenceModel(System.getenv()).map(p -> p.toAbsolutePath().normalize())
                .orElse(null);
        boolean withReference = reference != null
                && ModelLocator.findReferenceFile("stories260K-t0-n200.ids", System.getenv()).isPresent()
                && ModelLocator.findReferenceFile("stories260K-t0-n200.txt", System.getenv()).isPresent();
        List<VectorWidth> widths = new ArrayList<>();
        for (VectorWidth w : VectorWidth.values()) {
            if (w.bits() <= VectorWidth.hardware().bits()) {
                widths.add(w);
            }
        }
        assertTrue(widths.size() >= 2, "scalar and at least one vector width: " + widths);
        // Two JVMs at a time: much of each one's time is JIT compilation, which leaves a core idle.
        List<Fork> forks = new ArrayList<>();
        try {
            runForks(widths, models, withReference, reference, forks);
        } finally {
            forks.forEach(f -> f.process.destroyForcibly()); // after a failure: the other JVM
        }
        if (withReference) {
            models.add(0, reference);
        }
        compare(widths, models);
    }

    private void runForks(List<VectorWidth> widths, List<Path> models, boolean withReference, Path reference,
                          List<Fork> forks) throws IOException, InterruptedException {
        for (VectorWidth w : widths) {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-Xss4m", "-XX:+UseSerialGC",
                    "-Dwarmroute.engine.vector=" + (w == VectorWidth.SCALAR ? "scalar" : w.bits()),
                    "-Dwarmroute.shared.dir=" + (reference == null ? "" : reference.getParent().getParent()),
                    "-cp", System.getProperty("java.class.path"), SameBitsAtEveryWidthTest.class.getName(),
                    w.name(), Files.createDirectories(dir.resolve(w.name())).toString()));
            if (withReference) {
                cmd.add("--reference");
                cmd.add(reference.toString());
            }
            models.forEach(p -> cmd.add(p.toString()));
            if (forks.size() >= 2) {
                forks.remove(0).await();
            }
            forks.add(new Fork(w, cmd, dir.resolve(w.name() + ".log")));
        }
        while (!forks.isEmpty()) {
            forks.remove(0).await();
        }
    }

    private void compare(List<VectorWidth> widths, List<Path> models) throws IOException {
        VectorWidth first = widths.get(0);
        for (Path model : models) {
            String name = model.getFileName() + ".bits";
            byte[] expected = Files.readAllBytes(dir.resolve(first.name()).resolve(name));
            for (VectorWidth w : widths.subList(1, widths.size())) {
                byte[] actual = Files.readAllBytes(dir.resolve(w.name()).resolve(name));
                assertEquals(expected.length, actual.length);
                for (int i = 0; i < expected.length; i += 4) {
                    int e = ByteBuffer.wrap(expected, i, 4).getInt();
                    int a = ByteBuffer.wrap(actual, i, 4).getInt();
                    if (e != a) {
                        throw new AssertionError(model.getFileName() + ": logit float #" + i / 4 + " is "
                                + Float.intBitsToFloat(e) + " with " + first.label() + " kernels and "
                                + Float.intBitsToFloat(a) + " with " + w.label() + " kernels");
                    }
                }
            }
        }
    }

    /** One JVM at one width, its output in a log file. */
    private static final class Fork {
        final VectorWidth width;
        final Path log;
        final Process process;

        Fork(VectorWidth width, List<String> cmd, Path log) throws IOException {
            this.width = width;
            this.log = log;
            this.process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        void await() throws IOException, InterruptedException {
            if (!process.waitFor(300, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(width + " JVM did not finish in 300 s: " + Files.readString(log));
            }
            String output = Files.readString(log);
            assertEquals(0, process.exitValue(), width + " JVM failed (golden test, cache invariant or logits):\n"
                    + output);
            assertTrue(output.contains("ok: " + width.label() + " kernels"), width + " JVM: " + output);
        }
    }
}
