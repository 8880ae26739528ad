package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {

    @Test
    void everyPartRunsExactlyOncePerRegionAcrossManyRegions() {
        try (ComputePool pool = new ComputePool(3, "test-pool")) {
            AtomicIntegerArray counts = new AtomicIntegerArray(3);
            for (int i = 0; i < 20_000; i++) {
                pool.run((part, parts) -> {
                    assertEquals(3, parts);
                    counts.incrementAndGet(part);
                });
            }
            for (int p = 0; p < 3; p++) {
                assertEquals(20_000, counts.get(p), "part " + p);
            }
        }
    }

    @Test
    void aWorkersFailureIsRethrownToTheCallerAndThePoolKeepsWorking() {
        try (ComputePool pool = new ComputePool(2, "test-pool")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((part, parts) -> {
                if (part == 1) {
                    throw new IllegalStateException("boom in part 1");
                }
            }));
            assertEquals("boom in part 1", e.getMessage());
            int[] seen = new int[2];
            pool.run((part, parts) -> seen[part]++);
            assertEquals(1, seen[0]);
            assertEquals(1, seen[1]);
        }
    }

    @Test
    void splitCoversTheRangeWithoutGapsOrOverlap() {
        for (int n : new int[] {0, 1, 9, 1000}) {
            for (int parts = 1; parts <= 5; parts++) {
                int covered = 0;
                for (int p = 0; p < parts; p++) {
                    int a = ComputePool.split(n, p, parts);
                    int b = ComputePool.split(n, p + 1, parts);
                    assertEquals(covered, a);
                    covered = b;
                }
                assertEquals(n, covered);
            }
        }
    }
}
