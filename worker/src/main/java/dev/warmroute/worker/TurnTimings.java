package dev.warmroute.worker;

import dev.warmroute.api.v1.Timings;

/**
 * Where one turn's time went, collected step by step as the turn runs and reported in TurnComplete's
 * {@code timings}. Every figure is measured from the turn's arrival at the worker, on the turn's own thread.
 */
final class TurnTimings {

    private final long arrivalNanos;
    private final long startNanos;
    private final double queueMs;
    private double prepareMs;
    private double prefillMs;
    private double ttftMs;
    private double decodeMs;
    private double commitMs;
    private double totalMs;

    /** Starts when the turn leaves the queue for its compute thread. */
    TurnTimings(long arrivalNanos) {
        this.arrivalNanos = arrivalNanos;
        this.startNanos = System.nanoTime();
        this.queueMs = ms(startNanos - arrivalNanos);
    }

    /** The record is loaded, the prompt built and the cache compared: compute starts now. */
    void prepared() {
        prepareMs = ms(System.nanoTime() - startNanos);
    }

    void prefilled(long sinceNanos) {
        prefillMs = ms(System.nanoTime() - sinceNanos);
    }

    /** The first answer token went out (or the answer ended without one). */
    void firstToken(long atNanos) {
        ttftMs = ms(atNanos - arrivalNanos);
    }

    void decoded(long firstTokenNanos, long endNanos) {
        decodeMs = ms(endNanos - firstTokenNanos);
    }

    void committed(long sinceNanos) {
        commitMs = ms(System.nanoTime() - sinceNanos);
    }

    /** Stamps the total just before the final event. */
    void finished() {
        totalMs = ms(System.nanoTime() - arrivalNanos);
    }

    double ttftMs() {
        return ttftMs;
    }

    double totalMs() {
        return totalMs;
    }

    Timings toProto() {
        return Timings.newBuilder().setQueueMs(queueMs).setPrepareMs(prepareMs).setPrefillMs(prefillMs)
                .setTtftMs(ttftMs).setDecodeMs(decodeMs).setCommitMs(commitMs).setTotalMs(totalMs).build();
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }
}
