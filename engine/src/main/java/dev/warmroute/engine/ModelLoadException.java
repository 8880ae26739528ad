package dev.warmroute.engine;

/** A model file that cannot be used: missing, unreadable, corrupt, or of an architecture/type we do not run. */
public class ModelLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
