package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {

    @Test
    void everyChunkRunsExactlyOncePerRegionAcrossManyRegions() {
        try (ComputePool pool = new ComputePool(3, "test-pool")) {
            AtomicIntegerArray counts = new AtomicIntegerArray(7);
            AtomicIntegerArray threads = new AtomicIntegerArray(3);
            for (int i = 0; i < 20_000; i++) {
                pool.run(7, (chunk, thread) -> {
                    counts.incrementAndGet(chunk);
                    threads.incrementAndGet(thread);
                });
            }
            for (int c = 0; c < 7; c++) {
                assertEquals(20_000, counts.get(c), "chunk " + c);
            }
            assertEquals(7 * 20_000, threads.get(0) + threads.get(1) + threads.get(2));
        }
    }

    @Test
    void aChunksFailureIsRethrownToTheCallerAndThePoolKeepsWorking() {
        try (ComputePool pool = new ComputePool(2, "test-pool")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(4, (chunk, thread) -> {
                if (chunk == 2) {
                    throw new IllegalStateException("boom in chunk 2");
                }
            }));
            assertEquals("boom in chunk 2", e.getMessage());
            AtomicIntegerArray seen = new AtomicIntegerArray(4);
            pool.run(4, (chunk, thread) -> seen.incrementAndGet(chunk));
            for (int c = 0; c < 4; c++) {
                assertEquals(1, seen.get(c));
            }
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
