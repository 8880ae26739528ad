package dev.warmroute.engine;

/**
 * Wall time per stage of the forward pass, for {@code bench engine}: recorded only with
 * {@code -Dwarmroute.engine.profile=true}, so that the forward pass reads the clock only when asked to. The forward
 * pass calls {@link #lap} at the end of each stage; a lap charges the time since the previous one to that stage.
 */
final class StageProfile {

    static final boolean ENABLED = Boolean.getBoolean("warmroute.engine.profile");

    private final long[] nanos = new long[Model.Stage.values().length];
    private long last;

    /** Starts timing (the beginning of a forward pass or of the classifier). */
    void start() {
        if (ENABLED) {
            last = System.nanoTime();
        }
    }

    /** Charges the time since the last {@link #start} or lap to {@code stage}. */
    void lap(Model.Stage stage) {
        if (ENABLED) {
            long t = System.nanoTime();
            nanos[stage.ordinal()] += t - last;
            last = t;
        }
    }

    /** Nanoseconds per stage since load (all zero unless enabled). */
    long[] snapshot() {
        return nanos.clone();
    }
}
