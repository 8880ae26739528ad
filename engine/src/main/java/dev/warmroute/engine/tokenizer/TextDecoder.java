package dev.warmroute.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of token ids into text, one token at a time, returning only complete UTF-8: a character whose
 * bytes are spread over several tokens (byte-fallback {@code <0xE2><0x80><0x99>}, or a byte-level BPE token that
 * ends inside a character) comes out with the token that completes it. Invalid bytes become U+FFFD. Not
 * thread-safe: one decoder per stream.
 *
 * <p>Leading spaces follow llama2.c's {@code run}: the piece right after BOS loses one leading space (SentencePiece
 * vocabularies only); with {@code dropLeadingSpace} so does the first piece of the stream.
 */
public final class TextDecoder {

    private final byte[][] pieces;
    private final int stripAfter;
    private boolean dropNextSpace;
    /** Bytes of an unfinished character (at most 3). */
    private byte[] pending = new byte[0];

    TextDecoder(byte[][] pieces, int stripAfterToken, boolean dropLeadingSpace) {
        this.pieces = pieces;
        this.stripAfter = stripAfterToken;
        this.dropNextSpace = dropLeadingSpace;
    }

    /** Adds a token and returns the text it completes (possibly empty). */
    public String push(int token) {
        if (token < 0 || token >= pieces.length) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.."
                    + (pieces.length - 1) + ")");
        }
        byte[] piece = pieces[token];
        int from = 0;
        if (piece.length > 0 && dropNextSpace) {
            dropNextSpace = false;
            if (piece[0] == ' ') {
                from = 1;
            }
        }
        if (token == stripAfter) {
            dropNextSpace = true;
        }
        if (piece.length == from) {
            return "";
        }
        byte[] bytes = Arrays.copyOf(pending, pending.length + piece.length - from);
        System.arraycopy(piece, from, bytes, pending.length, piece.length - from);
        int complete = completeLength(bytes);
        pending = Arrays.copyOfRange(bytes, complete, bytes.length);
        return complete == 0 ? "" : new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Ends the stream: an unfinished character is returned as U+FFFD. */
    public String flush() {
        String s = pending.length == 0 ? "" : new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return s;
    }

    /**
     * The length of the prefix that can be decoded now: everything except a trailing sequence that is a valid
     * start of a character still missing bytes.
     */
    static int completeLength(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= 3 && back <= n; back++) {
            int i = n - back;
            int lead = b[i] & 0xFF;
            if (lead < 0x80) {
                return n; // ASCII: nothing unfinished after it
            }
            if (lead < 0xC0) {
                continue; // continuation byte: look further back for its lead
            }
            int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (lead < 0xC2 || lead > 0xF4 || back >= need) {
                return n; // invalid lead, or its sequence is already complete: decode all
            }
            // Incomplete: hold it back only if the bytes so far can still become a valid character.
            return validPrefix(b, i, back) ? i : n;
        }
        return n;
    }

    private static boolean validPrefix(byte[] b, int i, int count) {
        int lead = b[i] & 0xFF;
        for (int k = 1; k < count; k++) {
            int c = b[i + k] & 0xFF;
            int lo = 0x80, hi = 0xBF;
            if (k == 1) {
                if (lead == 0xE0) lo = 0xA0;
                else if (lead == 0xED) hi = 0x9F;
                else if (lead == 0xF0) lo = 0x90;
                else if (lead == 0xF4) hi = 0x8F;
            }
            if (c < lo || c > hi) {
                return false;
            }
        }
        return true;
    }
}
