package dev.warmroute.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.EngineOptions;
import org.junit.jupiter.api.Test;

class VectorWidthTest {

    @Test
    void namesAndTheOldBooleanValuesParse() {
        assertEquals(VectorWidth.W256, VectorWidth.choose("256", VectorWidth.W512));
        assertEquals(VectorWidth.W128, VectorWidth.choose(" 128 ", VectorWidth.W256));
        assertEquals(VectorWidth.SCALAR, VectorWidth.choose("scalar", VectorWidth.W512));
        assertEquals(VectorWidth.SCALAR, VectorWidth.choose("false", VectorWidth.W512));
        assertEquals(VectorWidth.W256, VectorWidth.choose("true", VectorWidth.W256));
        assertEquals(VectorWidth.W128, VectorWidth.choose(null, VectorWidth.W128));
    }

    @Test
    void widerThanTheHardwareFailsNamingThePropertyAndTheMachinesWidth() {
        var e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.choose("512", VectorWidth.W256));
        assertTrue(e.getMessage().contains("warmroute.engine.vector=512"), e.getMessage());
        assertTrue(e.getMessage().contains("at most 256-bit"), e.getMessage());
        assertTrue(e.getMessage().contains("scalar, 128, 256"), e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> VectorWidth.choose("avx2", VectorWidth.W256));
        assertTrue(bad.getMessage().contains("512, 256, 128 or scalar"), bad.getMessage());
    }

    @Test
    void theKernelsRunAtTheWidthThisJvmChose() {
        assertEquals(VectorWidth.CURRENT, Simd.WIDTH);
        assertEquals(Simd.WIDTH == VectorWidth.SCALAR ? 4 : Simd.WIDTH.lanes(), Simd.LANES);
        assertEquals(16, Simd.LANES * Simd.PER_GROUP);
        assertTrue(VectorWidth.CURRENT.bits() <= VectorWidth.hardware().bits());
        assertEquals(VectorWidth.CURRENT, EngineOptions.defaults().vectorWidth());
    }

    @Test
    void engineOptionsRefuseAnotherWidthThanTheJvms() {
        VectorWidth other = VectorWidth.CURRENT == VectorWidth.SCALAR ? VectorWidth.hardware() : VectorWidth.SCALAR;
        org.junit.jupiter.api.Assumptions.assumeTrue(other != VectorWidth.CURRENT,
                "a scalar-only machine: no other width to ask for");
        var e = assertThrows(IllegalArgumentException.class,
                () -> EngineOptions.builder().vectorWidth(other).build());
        assertTrue(e.getMessage().contains("-Dwarmroute.engine.vector="), e.getMessage());
    }
}
