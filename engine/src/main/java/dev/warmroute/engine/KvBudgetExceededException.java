package dev.warmroute.engine;

/**
 * The KV block pool cannot give the blocks asked for. Nothing was allocated: the caller may evict caches (returning
 * their blocks to the pool) and retry.
 */
public class KvBudgetExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long bytesNeeded;
    private final long bytesFree;

    public KvBudgetExceededException(long bytesNeeded, long bytesFree, long budget) {
        super("KV cache budget exceeded: " + bytesNeeded + " bytes needed, " + bytesFree + " free of a budget of "
                + budget + " bytes");
        this.bytesNeeded = bytesNeeded;
        this.bytesFree = bytesFree;
    }

    public long bytesNeeded() {
        return bytesNeeded;
    }

    public long bytesFree() {
        return bytesFree;
    }
}
