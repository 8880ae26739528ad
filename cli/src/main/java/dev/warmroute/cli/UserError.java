package dev.warmroute.cli;

/**
 * A failure the user can fix (bad flag, missing file, unreachable target). Printed as one line, no stack trace.
 */
public class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public UserError(String message) {
        this(message, 2);
    }

    public UserError(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
        this.exitCode = 2;
    }

    /**
     * A server that did not start: a port in use names the flag to change; anything else keeps its message (and
     * cause, for WARMROUTE_DEBUG).
     */
    static UserError serverStart(java.io.IOException e, String host, int port) {
        if (e instanceof java.net.BindException || e.getCause() instanceof java.net.BindException) {
            return new UserError("port " + port + " on " + host + " is in use (--port)");
        }
        return new UserError(e.getMessage(), e);
    }

    public int exitCode() {
        return exitCode;
    }
}
