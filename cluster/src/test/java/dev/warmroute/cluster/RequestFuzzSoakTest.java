package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The long fuzzing run: {@link RequestFuzzTest}'s generators and oracle for {@code warmroute.fuzz.seconds} seconds
 * (jqwik counts tries, not time), round-robin over the three properties, printing how many inputs each took and what
 * became of them. Skipped unless the property is set; the command and the result of the last run are in
 * docs/security.md:
 *
 * <pre>nice -n 10 bin/test -pl cluster -am -Dtest=RequestFuzzSoakTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dsurefire.extra=-Dwarmroute.fuzz.seconds=600</pre>
 *
 * A failure names the input (no shrinking here: the same generators under RequestFuzzTest shrink it).
 */
class RequestFuzzSoakTest {

    @Test
    @EnabledIfSystemProperty(named = "warmroute.fuzz.seconds", matches = "[1-9][0-9]*")
    void fuzzForTheGivenSeconds() {
        Duration budget = Duration.ofSeconds(Long.parseLong(System.getProperty("warmroute.fuzz.seconds")));
        long end = System.nanoTime() + budget.toNanos();
        long[] tries = new long[3];
        Map<String, Long> outcomes = new TreeMap<>();
        Iterator<RequestFuzzTest.Input> bytes = RequestFuzzTest.inputs().sampleStream().iterator();
        var sends = RequestFuzz.sendMessages().sampleStream().iterator();
        var creates = RequestFuzz.createSessions().sampleStream().iterator();
        while (System.nanoTime() < end) {
            for (int k = 0; k < 100; k++) {
                run(bytes, in -> "bytes " + RequestFuzz.decodeAndCheck(in.method(), in.bytes()), tries, 0, outcomes);
                run(sends, r -> {
                    RequestFuzz.decodeAndCheck(RequestFuzz.Method.SEND, r.toByteArray());
                    return "SendMessageRequest " + RequestFuzz.check(RequestFuzz.Method.SEND, r);
                }, tries, 1, outcomes);
                run(creates, r -> {
                    RequestFuzz.decodeAndCheck(RequestFuzz.Method.CREATE, r.toByteArray());
                    return "CreateSessionRequest " + RequestFuzz.check(RequestFuzz.Method.CREATE, r);
                }, tries, 2, outcomes);
            }
        }
        StringBuilder report = new StringBuilder(String.format("fuzz: %d s, %d tries (bytes %d, SendMessageRequest %d,"
                + " CreateSessionRequest %d), 0 failures%n", budget.toSeconds(), tries[0] + tries[1] + tries[2],
                tries[0], tries[1], tries[2]));
        outcomes.forEach((what, n) -> report.append(String.format("  %-60s %d%n", what, n)));
        System.out.print(report);
        System.err.print(report);
        assertTrue(tries[0] > 0 && tries[1] > 0 && tries[2] > 0, report.toString());
    }

    private static <T> void run(Iterator<T> source, Function<T, String> property, long[] tries, int which,
            Map<String, Long> outcomes) {
        T input = source.next();
        String outcome;
        try {
            outcome = property.apply(input);
        } catch (AssertionError e) {
            throw new AssertionError("after " + tries[which] + " tries, the input " + input + ": " + e.getMessage(), e);
        }
        tries[which]++;
        outcomes.merge(outcome, 1L, Long::sum);
    }
}
