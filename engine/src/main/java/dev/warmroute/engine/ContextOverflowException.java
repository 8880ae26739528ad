package dev.warmroute.engine;

/** Appending the tokens would go past the model's context length. */
public class ContextOverflowException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int contextLength;
    private final int requested;

    public ContextOverflowException(int contextLength, int requested) {
        super("context overflow: " + requested + " token positions requested, the model's context length is "
                + contextLength);
        this.contextLength = contextLength;
        this.requested = requested;
    }

    public int contextLength() {
        return contextLength;
    }

    /** Positions the cache would hold after the call. */
    public int requested() {
        return requested;
    }
}
