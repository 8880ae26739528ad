package dev.warmroute.engine.tensor;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/** bfloat16 weights (the upper half of a float), same panel layout as {@link F16Tensor}. */
public final class BF16Tensor extends F16Tensor {

    BF16Tensor(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data, false);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    float widen(short s) {
        return Float.intBitsToFloat(s << 16);
    }
}
