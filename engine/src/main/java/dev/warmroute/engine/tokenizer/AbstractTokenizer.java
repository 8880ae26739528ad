package dev.warmroute.engine.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * What both tokenizer families share: the vocabulary, lookups, the split of text around special tokens (as
 * llama.cpp's {@code tokenizer_st_partition}), the fingerprint and the decoder.
 */
abstract sealed class AbstractTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {

    protected final TokenizerSpec spec;
    protected final String[] tokens;
    private final TokenType[] types;
    /** Text to id of every token that may come out of merging ordinary text (normal and user-defined tokens). */
    protected final Map<String, Integer> mergeable;
    /** Text to id of every token, for {@link #tokenId(String)}. */
    private final Map<String, Integer> all;
    /** Special tokens matched in text: user-defined always, control ones on request; longest first. */
    private final List<Integer> userDefined;
    private final List<Integer> controlAndUserDefined;
    /** What each token prints as, in bytes. */
    private final byte[][] pieceBytes;
    private volatile String fingerprint;

    AbstractTokenizer(TokenizerSpec spec) {
        this.spec = spec;
        this.tokens = spec.tokens();
        int n = tokens.length;
        this.types = new TokenType[n];
        this.mergeable = HashMap.newHashMap(n);
        this.all = HashMap.newHashMap(n);
        List<Integer> ud = new ArrayList<>();
        List<Integer> cud = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TokenType t = spec.type(i);
            types[i] = t;
            all.putIfAbsent(tokens[i], i);
            if (t == TokenType.NORMAL || t == TokenType.USER_DEFINED || t == TokenType.UNDEFINED) {
                mergeable.putIfAbsent(tokens[i], i);
            }
            if (!tokens[i].isEmpty()) {
                if (t == TokenType.USER_DEFINED) {
                    ud.add(i);
                    cud.add(i);
                } else if (t == TokenType.CONTROL) {
                    cud.add(i);
                }
            }
        }
        Comparator<Integer> longestFirst = Comparator.comparingInt((Integer i) -> tokens[i].length()).reversed()
                .thenComparing(i -> i);
        ud.sort(longestFirst);
        cud.sort(longestFirst);
        this.userDefined = List.copyOf(ud);
        this.controlAndUserDefined = List.copyOf(cud);
        this.pieceBytes = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieceBytes[i] = switch (types[i]) {
                case CONTROL, UNUSED -> new byte[0];
                case BYTE -> new byte[] {(byte) parseByteToken(tokens[i], i)};
                case UNKNOWN -> "\u2585".getBytes(StandardCharsets.UTF_8);
                case USER_DEFINED -> tokens[i].getBytes(StandardCharsets.UTF_8);
                case NORMAL, UNDEFINED -> normalPieceBytes(tokens[i]);
            };
        }
    }

    /** How a normal token prints: "▁" becomes a space (SentencePiece), or byte-level characters become bytes. */
    abstract byte[] normalPieceBytes(String token);

    /** Appends the ids of raw text (no special tokens inside). {@code spacePrefix}: SentencePiece's dummy prefix. */
    abstract void encodeText(String text, boolean spacePrefix, IntList out);

    /** Whether the decoder drops the leading space of the piece after BOS (llama2.c), only for SentencePiece. */
    abstract boolean stripSpaceAfterBos();

    static int parseByteToken(String token, int id) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            try {
                return Integer.parseInt(token.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("tokenizer.ggml.tokens[" + id + "] = '" + token
                + "' has type BYTE but is not of the form <0xXX>");
    }

    @Override
    public int[] encode(String text, boolean spacePrefix, boolean parseSpecial) {
        IntList out = new IntList();
        if (text.isEmpty()) {
            return out.toArray();
        }
        // Partition as llama.cpp: special tokens (longest first) cut the text; the raw parts are encoded. The dummy
        // prefix goes to the first raw part and to every raw part that follows a special token.
        List<Object> parts = new ArrayList<>();
        parts.add(text);
        for (int id : parseSpecial ? controlAndUserDefined : userDefined) {
            String s = tokens[id];
            List<Object> next = new ArrayList<>(parts.size());
            for (Object p : parts) {
                if (!(p instanceof String raw) || !raw.contains(s)) {
                    next.add(p);
                    continue;
                }
                int from = 0;
                for (int at = raw.indexOf(s); at >= 0; at = raw.indexOf(s, from)) {
                    if (at > from) {
                        next.add(raw.substring(from, at));
                    }
                    next.add(id);
                    from = at + s.length();
                }
                if (from < raw.length()) {
                    next.add(raw.substring(from));
                }
            }
            parts = next;
        }
        boolean prevSpecial = true;
        for (Object p : parts) {
            if (p instanceof Integer id) {
                out.add(id);
                prevSpecial = true;
            } else {
                encodeText((String) p, spacePrefix && prevSpecial, out);
                prevSpecial = false;
            }
        }
        return out.toArray();
    }

    @Override
    public int bos() {
        return spec.bos();
    }

    @Override
    public int eos() {
        return spec.eos();
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public boolean addBos() {
        return spec.addBos();
    }

    @Override
    public boolean addsSpacePrefix() {
        return spec.addSpacePrefix() && spec.model().equals(TokenizerSpec.LLAMA);
    }

    @Override
    public String model() {
        return spec.model();
    }

    @Override
    public int tokenId(String text) {
        Integer id = all.get(text);
        return id == null ? -1 : id;
    }

    @Override
    public String piece(int id) {
        checkId(id);
        return tokens[id];
    }

    @Override
    public TokenType type(int id) {
        checkId(id);
        return types[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (tokens.length - 1) + ")");
        }
    }

    @Override
    public TextDecoder newDecoder(boolean dropLeadingSpace) {
        return new TextDecoder(pieceBytes, stripSpaceAfterBos() ? spec.bos() : -1, dropLeadingSpace);
    }

    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            fingerprint = f = computeFingerprint();
        }
        return f;
    }

    private String computeFingerprint() {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
        ByteBuffer b = ByteBuffer.allocate(64);
        str(sha, "warmroute-tokenizer-1");
        str(sha, spec.model());
        str(sha, preName());
        num(sha, b, tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            str(sha, tokens[i]);
            num(sha, b, types[i].code());
            num(sha, b, spec.scores() == null ? 0 : Float.floatToIntBits(spec.scores()[i]));
        }
        String[] merges = spec.merges();
        num(sha, b, merges == null ? -1 : merges.length);
        if (merges != null) {
            for (String m : merges) {
                str(sha, m);
            }
        }
        num(sha, b, spec.bos());
        num(sha, b, spec.eos());
        num(sha, b, spec.unknown());
        num(sha, b, spec.addBos() ? 1 : 0);
        num(sha, b, addsSpacePrefix() ? 1 : 0);
        return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    /** The pre-tokenizer name that is part of the fingerprint ("" for SentencePiece). */
    abstract String preName();

    private static void str(MessageDigest sha, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        sha.update(bytes);
    }

    private static void num(MessageDigest sha, ByteBuffer b, int v) {
        b.clear();
        b.putInt(v);
        sha.update(b.array(), 0, 4);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[model=" + spec.model() + ", pre=" + preName() + ", vocab="
                + tokens.length + ", bos=" + spec.bos() + ", eos=" + spec.eos() + "]";
    }
}
