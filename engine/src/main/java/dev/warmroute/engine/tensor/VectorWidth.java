package dev.warmroute.engine.tensor;

import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register width the kernels run at: 512 (AVX-512), 256 (AVX2, SVE-256), 128 (NEON, SSE) or scalar. Every width
 * computes the same bits: the kernels' logical unit is a group of 16 float lanes (half a weight panel, one KV block of
 * positions), carried by one 512-bit, two 256-bit or four 128-bit vectors, and each lane is its own sequential
 * chain, so which register holds a lane never changes what the lane computes.
 *
 * <p>The width is chosen once per JVM ({@link #CURRENT}): the kernels hold their species in {@code static final}
 * fields so that C2 folds them (a species read from a non-constant field leaves the Vector API unintrinsified,
 * hundreds of times slower). The default is {@link #hardware()}; {@code -Dwarmroute.engine.vector=512|256|128|scalar}
 * forces a narrower one ({@code false} means scalar, {@code true} the default, as before).
 */
public enum VectorWidth {
    SCALAR(0), W128(128), W256(256), W512(512);

    /** The system property that forces a width. */
    public static final String PROPERTY = "warmroute.engine.vector";

    private final int bits;

    VectorWidth(int bits) {
        this.bits = bits;
    }

    /**
     * The width of this JVM's kernels, chosen at class initialisation. An invalid or too wide
     * {@code -Dwarmroute.engine.vector} leaves the hardware's width here and makes {@link #requireValid()} (called by
     * {@code EngineOptions} and {@code Model.load}) fail with the reason, instead of a class initialisation error.
     */
    public static final VectorWidth CURRENT;
    private static final String INVALID;

    static {
        VectorWidth w;
        String invalid = null;
        try {
            w = choose(System.getProperty(PROPERTY), hardware());
        } catch (IllegalArgumentException e) {
            w = hardware();
            invalid = e.getMessage();
        }
        CURRENT = w;
        INVALID = invalid;
    }

    /** Throws IllegalArgumentException naming the property when -Dwarmroute.engine.vector is invalid or too wide. */
    public static void requireValid() {
        if (INVALID != null) {
            throw new IllegalArgumentException(INVALID);
        }
    }

    /** 0 for scalar. */
    public int bits() {
        return bits;
    }

    /** Floats per vector (1 for scalar). */
    public int lanes() {
        return bits == 0 ? 1 : bits / 32;
    }

    /**
     * The widest width this JVM runs with real vector instructions: the Vector API's preferred species, capped at
     * 512. Without C2 or without vector support the Vector API still works but emulates every operation in Java
     * (and reports a 64-bit preferred shape): that, or anything below 128 bits, is scalar.
     */
    public static VectorWidth hardware() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (preferred >= 512) {
            return W512;
        }
        if (preferred >= 256) {
            return W256;
        }
        return preferred >= 128 ? W128 : SCALAR;
    }

    /** Why the hardware width is what it is, for the log line of a scalar worker. */
    public static String hardwareReason() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return preferred >= 128 ? "the JVM's preferred vector shape is " + preferred + "-bit"
                : "the JVM reports no vector intrinsics (preferred shape " + preferred + "-bit: no C2, or no SIMD"
                        + " unit the Vector API supports)";
    }

    /**
     * Parses a value of {@link #PROPERTY} ("512", "256", "128", "scalar", "false" = scalar, "true" or absent = the
     * hardware's) and checks it is no wider than the hardware.
     */
    public static VectorWidth choose(String value, VectorWidth hardware) {
        VectorWidth asked = parse(value, hardware);
        if (asked.bits > hardware.bits) {
            throw new IllegalArgumentException(PROPERTY + "=" + value + " asks for " + asked.label()
                    + " kernels, but this machine runs at most " + hardware.label() + " (" + hardwareReason()
                    + "); use " + allowed(hardware));
        }
        return asked;
    }

    /** Parses a width name as {@link #choose} does, without the hardware check (absent or "true" = hardware). */
    public static VectorWidth parse(String value, VectorWidth hardware) {
        if (value == null || value.isBlank()) {
            return hardware;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> hardware;
            case "false", "scalar", "0" -> SCALAR;
            case "128" -> W128;
            case "256" -> W256;
            case "512" -> W512;
            default -> throw new IllegalArgumentException(PROPERTY + "=" + value + " is not a vector width; use "
                    + "512, 256, 128 or scalar (true = the widest this machine runs, false = scalar)");
        };
    }

    private static String allowed(VectorWidth hardware) {
        StringBuilder sb = new StringBuilder();
        for (VectorWidth w : values()) {
            if (w.bits <= hardware.bits) {
                sb.append(sb.isEmpty() ? "" : ", ").append(w.name().equals("SCALAR") ? "scalar" : w.bits);
            }
        }
        return sb.toString();
    }

    /** "512-bit", ..., "scalar". */
    public String label() {
        return bits == 0 ? "scalar" : bits + "-bit";
    }

    /** The float species of this width (the 128-bit one for scalar, never used for computing then). */
    VectorSpecies<Float> floatSpecies() {
        return switch (this) {
            case W512 -> FloatVector.SPECIES_512;
            case W256 -> FloatVector.SPECIES_256;
            case W128, SCALAR -> FloatVector.SPECIES_128;
        };
    }

    /**
     * One line for logs, {@code version} and benchmarks: the width, how it was chosen, and the hardware's, e.g.
     * "256-bit kernels (forced by -Dwarmroute.engine.vector=256; the machine runs 512-bit)".
     */
    public static String describe() {
        VectorWidth hw = hardware();
        String how;
        if (INVALID != null) {
            how = "the machine's; -D" + PROPERTY + " is invalid and the engine will refuse to start: " + INVALID;
        } else if (CURRENT != hw) {
            how = "forced by -D" + PROPERTY + "=" + System.getProperty(PROPERTY) + "; the machine runs " + hw.label();
        } else if (hw == SCALAR) {
            how = hardwareReason() + "; same bits as the vector kernels, many times slower";
        } else {
            how = "the widest this machine runs";
        }
        return CURRENT.label() + " kernels (" + how + ")";
    }
}
