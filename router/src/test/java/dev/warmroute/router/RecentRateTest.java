package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentRateTest {

    @Test
    void countsOnlyTheLastMinute() {
        AtomicLong now = new AtomicLong(1_000_000);
        RecentRate r = new RecentRate(now::get);
        assertEquals(0.0, r.rate());
        r.record(false);
        r.record(false);
        now.addAndGet(30_000);
        r.record(true);
        r.record(true);
        assertEquals(0.5, r.rate(), 1e-9);
        now.addAndGet(31_000); // the first two are now 61 s old
        assertEquals(1.0, r.rate(), 1e-9);
        now.addAndGet(60_000);
        assertEquals(0.0, r.rate());
        r.record(true);
        assertEquals(1.0, r.rate(), 1e-9);
    }
}
