package dev.warmroute.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernels' compile-time constants for this JVM's {@link VectorWidth}: the float species, its lane count and how
 * many vectors carry one 16-lane group. They are {@code static final} so that C2 folds them into every kernel (the
 * branches on {@link #LANES} below compile to the one taken).
 */
public final class Simd {
    private Simd() {}

    /** The logical lane group: half a weight panel, one KV block of positions, 16 independent chains. */
    public static final int GROUP = 16;
    public static final VectorWidth WIDTH = VectorWidth.CURRENT;
    /** False: the scalar twins run (same bits). */
    public static final boolean VECTOR = WIDTH != VectorWidth.SCALAR;
    public static final VectorSpecies<Float> S = WIDTH.floatSpecies();
    /** Floats per vector: 16, 8 or 4. */
    public static final int LANES = S.length();
    /** Vectors per 16-lane group: 1, 2 or 4. */
    public static final int PER_GROUP = GROUP / LANES;
    /**
     * 32 vector registers (AVX-512, whose EVEX encoding gives 32 at every width, and AArch64) or 16 (AVX2, SSE):
     * decides the register tiling, which never changes a chain.
     */
    public static final boolean MANY_REGISTERS = VectorWidth.hardware() == VectorWidth.W512
            || System.getProperty("os.arch", "").equals("aarch64");

    /** The 256-bit species (8 floats), for 8-wide slices of a head dimension when the vectors are wider. */
    static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;

    public static String describe() {
        return VectorWidth.describe();
    }
}
