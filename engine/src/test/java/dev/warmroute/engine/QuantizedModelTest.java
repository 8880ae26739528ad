package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import dev.warmroute.engine.gguf.GgufWriter;
import dev.warmroute.engine.quant.TensorCodec;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quantised copies of the reference model (written with our own quantiser) load and track the F32 model: top-1
 * agreement of the next-token choice along F32's own 200-token greedy continuation (teacher forcing).
 */
class QuantizedModelTest {

    @TempDir
    Path dir;

    @Test
    void q8AndQ4CopiesOfTheReferenceModelTrackF32() throws Exception {
        Path f32 = TestModels.referenceModelOrSkip();
        Path q8 = quantize(f32, dir.resolve("stories260K-q8_0.gguf"), GgmlType.Q8_0);
        Path q4 = quantize(f32, dir.resolve("stories260K-q4_0.gguf"), GgmlType.Q4_0);
        try (Model ref = Model.load(f32); Model m8 = Model.load(q8); Model m4 = Model.load(q4)) {
            assertEquals("q8_0", m8.config().weightType());
            int[] seq = greedy(ref, 200);
            double a8 = agreement(ref, m8, seq);
            double a4 = agreement(ref, m4, seq);
            System.out.printf("top-1 agreement with F32 over 200 greedy steps: Q8_0 %.3f, Q4_0 %.3f%n", a8, a4);
            assertTrue(a8 >= 0.95, "Q8_0 top-1 agreement " + a8 + " < 0.95");
            assertTrue(a4 >= 0.60, "Q4_0 top-1 agreement " + a4 + " < 0.60");
        }
    }

    /** Copies the file, storing every matrix whose rows fit the block size as {@code type}. */
    static Path quantize(Path in, Path out, GgmlType type) throws Exception {
        try (GgufFile g = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter();
            for (String key : g.metadata().keySet()) {
                w.copy(g, key);
            }
            for (GgufTensorInfo t : g.tensorList()) {
                boolean quantise = t.rank() == 2 && TensorCodec.fits(type, t.dim(0));
                GgmlType target = quantise ? type : GgmlType.F32;
                float[] data = g.data(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                w.addTensor(t.name(), target, t.dims(), sink -> {
                    ByteBuffer bb = ByteBuffer.allocate((int) target.bytesFor(data.length)).order(ByteOrder.LITTLE_ENDIAN);
                    TensorCodec.encode(target, data, 0, data.length, bb);
                    bb.flip();
                    sink.write(bb);
                });
            }
            w.write(out);
        }
        return out;
    }

    private static int[] greedy(Model m, int steps) {
        KvCache c = m.newCache(new KvBlockPool(m.config(), m.kvBytesPerToken() * (steps + 16)));
        int[] seq = new int[steps + 1];
        seq[0] = 1; // BOS
        for (int i = 0; i < steps; i++) {
            seq[i + 1] = Sampler.argmax(m.forward(c, seq, i, i + 1));
        }
        return seq;
    }

    private static double agreement(Model ref, Model q, int[] seq) {
        KvCache c = q.newCache(new KvBlockPool(q.config(), q.kvBytesPerToken() * (seq.length + 16)));
        int same = 0;
        for (int i = 0; i + 1 < seq.length; i++) {
            if (Sampler.argmax(q.forward(c, seq, i, i + 1)) == seq[i + 1]) {
                same++;
            }
        }
        return same / (double) (seq.length - 1);
    }
}
