package dev.warmroute.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.EngineOptions;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.Sampler;
import dev.warmroute.engine.TestModels;
import dev.warmroute.engine.gguf.GgmlType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3's "Quantised weights": Q8_0 and Q4_0 files written by our quantiser load in our engine and track F32 on
 * the reference model. Top-1 agreement is measured teacher-forced: both models see the F32 model's greedy tokens,
 * and at each of the 200 steps we compare their argmax (free-running, one early difference would make every later
 * step differ even if the weights were nearly exact).
 */
class QuantisedModelTest {

    static final int STEPS = 200;

    @TempDir
    Path dir;

    record Agreement(int top1, double maxLogitError) {}

    @Test
    void q8_0TracksF32InAtLeast95PercentOfGreedySteps() throws Exception {
        Agreement a = agreement(GgmlType.Q8_0);
        assertTrue(a.top1() >= 0.95 * STEPS, "Q8_0 top-1 agreement " + a.top1() + "/" + STEPS);
    }

    @Test
    void q4_0TracksF32() throws Exception {
        // No figure in the issue for Q4_0; measured 85% when this test was written, with a much larger logit error.
        Agreement a = agreement(GgmlType.Q4_0);
        assertTrue(a.top1() >= 0.70 * STEPS, "Q4_0 top-1 agreement " + a.top1() + "/" + STEPS);
    }

    private Agreement agreement(GgmlType type) throws Exception {
        Path ref = TestModels.referenceModelOrSkip();
        Path quantised = dir.resolve(type + ".gguf");
        ModelQuantizer.quantize(ref, quantised, type);
        EngineOptions opts = EngineOptions.builder().threads(2).build();
        try (Model f32 = Model.load(ref, opts); Model q = Model.load(quantised, opts)) {
            assertEquals(type.name().toLowerCase(), q.config().weightType());
            KvCache cf = f32.newCache(new KvBlockPool(f32.config(), f32.kvBytesPerToken() * (STEPS + 16)));
            KvCache cq = q.newCache(new KvBlockPool(q.config(), q.kvBytesPerToken() * (STEPS + 16)));
            int token = f32.tokenizer().bos();
            int agree = 0;
            double maxErr = 0;
            for (int i = 0; i < STEPS; i++) {
                float[] lf = f32.forward(cf, token);
                float[] lq = q.forward(cq, token);
                int next = Sampler.argmax(lf);
                if (Sampler.argmax(lq) == next) {
                    agree++;
                }
                for (int v = 0; v < lf.length; v++) {
                    maxErr = Math.max(maxErr, Math.abs(lf[v] - lq[v]));
                }
                token = next;
            }
            System.out.printf("%s: top-1 agreement %d/%d, max |logit difference| %.4f%n", type, agree, STEPS, maxErr);
            return new Agreement(agree, maxErr);
        }
    }
}
