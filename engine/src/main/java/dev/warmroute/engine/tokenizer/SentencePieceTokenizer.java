package dev.warmroute.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece-style BPE over scores ({@code tokenizer.ggml.model = llama}), as llama.cpp's {@code llm_tokenizer_spm}
 * and llama2.c's {@code encode}: spaces become "▁", a dummy "▁" goes in front, the text starts as one symbol per
 * character, and the adjacent pair whose concatenation is the highest-scoring token is merged (leftmost first on
 * ties) until no pair is a token. A symbol that is not a token falls back to its UTF-8 bytes ({@code <0xXX>}).
 */
public final class SentencePieceTokenizer extends AbstractTokenizer {

    static final char SPACE = '\u2581';

    private final float[] scores;
    private final int[] byteTokens = new int[256];

    SentencePieceTokenizer(TokenizerSpec spec) {
        super(spec);
        this.scores = spec.scores() != null ? spec.scores() : new float[tokens.length];
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = tokenId(String.format("<0x%02X>", b));
        }
    }

    @Override
    byte[] normalPieceBytes(String token) {
        return token.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    boolean stripSpaceAfterBos() {
        return true;
    }

    @Override
    String preName() {
        return "";
    }

    @Override
    void encodeText(String raw, boolean spacePrefix, IntList out) {
        String text = ((spacePrefix ? " " : "") + raw).replace(' ', SPACE);
        if (text.isEmpty()) {
            return;
        }
        // Symbols: one per code point, as a linked list over offsets into text. len 0 = merged away.
        int cap = text.length();
        int[] start = new int[cap];
        int[] len = new int[cap];
        int[] next = new int[cap];
        int n = 0;
        for (int off = 0; off < text.length(); ) {
            int cp = text.codePointAt(off);
            int l = Character.charCount(cp);
            start[n] = off;
            len[n] = l;
            next[n] = off + l < text.length() ? n + 1 : -1;
            n++;
            off += l;
        }
        SymbolMerger.merge(text, start, len, next, n, this::mergeRank);
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            String piece = text.substring(start[i], start[i] + len[i]);
            Integer id = mergeable.get(piece);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xFF];
                if (bt >= 0) {
                    out.add(bt);
                } else if (spec.unknown() >= 0) {
                    out.add(spec.unknown());
                } else {
                    throw new IllegalArgumentException("cannot encode '" + piece + "': no byte token <0x"
                            + String.format("%02X", b & 0xFF) + "> and no unknown token in the vocabulary");
                }
            }
        }
    }

    /** Highest-scoring token first (so the rank is minus the score), NaN when the pair is not a token. */
    private double mergeRank(String text, int start, int leftLen, int rightLen) {
        Integer id = mergeable.get(text.substring(start, start + leftLen + rightLen));
        return id == null ? Double.NaN : -(double) scores[id];
    }
}
