package dev.warmroute.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.TestModels;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converting the reference model: which tensors change, what stays, and how close the weights stay. */
class ModelQuantizerTest {

    @TempDir
    Path dir;

    @Test
    void q8_0AndQ4_0KeepNormsAndUnevenRowsAndStayWithinOneStepOfF32() throws Exception {
        Path ref = TestModels.referenceModelOrSkip();
        for (GgmlType target : List.of(GgmlType.Q8_0, GgmlType.Q4_0)) {
            Path out = dir.resolve(target + ".gguf");
            List<ModelQuantizer.Entry> report = ModelQuantizer.quantize(ref, out, target);
            try (GgufFile src = GgufFile.open(ref); GgufFile q = GgufFile.open(out)) {
                assertEquals(src.tensors().keySet(), q.tensors().keySet());
                for (String key : src.metadata().keySet()) {
                    if (!key.equals("general.file_type")) {
                        assertTrue(Objects.deepEquals(src.get(key), q.get(key)), key + " changed");
                    }
                }
                assertEquals(ModelQuantizer.fileType(target), q.getInt("general.file_type"));
                assertEquals(2, q.getInt("general.quantization_version"));
                for (GgufTensorInfo t : q.tensorList()) {
                    GgufTensorInfo s = src.tensor(t.name());
                    if (t.name().endsWith("norm.weight")) {
                        assertEquals(GgmlType.F32, t.type(), t.name());
                        assertEquals(-1, src.data(s).mismatch(q.data(t)), t.name());
                    } else if (t.name().contains("ffn_down")) {
                        assertEquals(GgmlType.F32, t.type(), t.name() + ": rows of 172 are not whole blocks");
                    } else {
                        assertEquals(target, t.type(), t.name());
                        assertCloseBlockwise(src, s, q, t, target);
                    }
                }
            }
            assertEquals(5, report.stream().filter(e -> e.note().contains("172")).count());
        }
    }

    /** Every block's error stays within one quantisation step of that block (half a step for Q8_0). */
    private static void assertCloseBlockwise(GgufFile src, GgufTensorInfo s, GgufFile q, GgufTensorInfo t, GgmlType type) {
        int n = (int) s.elementCount();
        float[] a = new float[n];
        float[] b = new float[n];
        TensorCodec.decode(GgmlType.F32, src.data(s).asByteBuffer(), a, 0, n);
        TensorCodec.decode(type, q.data(t).asByteBuffer(), b, 0, n);
        for (int blk = 0; blk < n; blk += 32) {
            float amax = 0;
            for (int j = blk; j < blk + 32; j++) {
                amax = Math.max(amax, Math.abs(a[j]));
            }
            double step = type == GgmlType.Q8_0 ? amax / 127.0 * 0.5 : amax / 8.0;
            double bound = step * 1.01 + amax * Math.pow(2, -10) + 1e-12;
            for (int j = blk; j < blk + 32; j++) {
                assertTrue(Math.abs(a[j] - b[j]) <= bound, t.name() + "[" + j + "]: " + a[j] + " -> " + b[j]);
            }
        }
    }

    @Test
    void refusesToOverwriteItsInputAndUnknownTargets() {
        Path ref = TestModels.referenceModelOrSkip();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelQuantizer.quantize(ref, ref, GgmlType.Q8_0));
        assertTrue(e.getMessage().contains("--out must differ"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelQuantizer.quantize(ref, dir.resolve("x.gguf"), GgmlType.Q4_K));
        assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
    }
}
