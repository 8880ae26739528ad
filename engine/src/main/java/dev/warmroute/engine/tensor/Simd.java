package dev.warmroute.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Which kernels run: the Vector API ones need 512-bit vectors (one vector = 16 floats = half a weight panel = one KV
 * block of positions); elsewhere, or with {@code -Dwarmroute.engine.vector=false}, the scalar twins run. Both give
 * the same bits (see {@link Ops} for why), so this is a speed choice only.
 */
public final class Simd {
    private Simd() {}

    public static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    public static final boolean VECTOR = Boolean.parseBoolean(System.getProperty("warmroute.engine.vector", "true"))
            && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    public static String describe() {
        return VECTOR ? "Vector API, 512-bit" : "scalar (no 512-bit vectors, or -Dwarmroute.engine.vector=false)";
    }
}
