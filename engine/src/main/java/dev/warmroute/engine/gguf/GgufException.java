package dev.warmroute.engine.gguf;

/** A GGUF file that cannot be read: the message names the file, the byte offset and the field. */
public class GgufException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
