package dev.warmroute.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}), as GPT-2, Llama 3 and SmolLM use and llama.cpp's
 * {@code llm_tokenizer_bpe} implements: the pre-tokenizer regex cuts text into words, each word's UTF-8 bytes are
 * spelled with GPT-2's byte characters, and the adjacent pair with the lowest merge rank is merged (leftmost first)
 * until no pair has a merge.
 */
public final class BytePairTokenizer extends AbstractTokenizer {

    private final PreTokenizer pre;
    /** "left right" to rank (its index in tokenizer.ggml.merges). */
    private final Map<String, Integer> ranks;

    BytePairTokenizer(TokenizerSpec spec) {
        super(spec);
        this.pre = PreTokenizer.named(spec.pre());
        String[] merges = spec.merges();
        this.ranks = HashMap.newHashMap(merges.length);
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            if (m.indexOf(' ', 1) < 0) {
                throw new IllegalArgumentException("tokenizer.ggml.merges[" + i + "] = '" + m
                        + "' is not of the form 'left right'");
            }
            ranks.putIfAbsent(m, i);
        }
    }

    @Override
    byte[] normalPieceBytes(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = ByteLevel.byteOf(c);
            if (b >= 0) {
                out.write(b);
            } else {
                // Not a byte-level character (a badly converted vocabulary): print the character itself.
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    @Override
    boolean stripSpaceAfterBos() {
        return false;
    }

    @Override
    String preName() {
        return pre.name();
    }

    @Override
    void encodeText(String text, boolean spacePrefix, IntList out) {
        for (String word : pre.split(text)) {
            encodeWord(ByteLevel.encode(word.getBytes(StandardCharsets.UTF_8)), out);
        }
    }

    private void encodeWord(String word, IntList out) {
        if (pre.ignoreMerges()) {
            Integer whole = mergeable.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        // Byte-level characters are all in the BMP: one char per initial symbol.
        int n = word.length();
        int[] start = new int[n];
        int[] len = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            len[i] = 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        SymbolMerger.merge(word, start, len, next, n, this::mergeRank);
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            String piece = word.substring(i, i + len[i]);
            Integer id = mergeable.get(piece);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (int k = 0; k < piece.length(); k++) {
                Integer c = mergeable.get(piece.substring(k, k + 1));
                if (c != null) {
                    out.add(c);
                } else if (spec.unknown() >= 0) {
                    out.add(spec.unknown());
                } else {
                    throw new IllegalArgumentException("cannot encode byte 0x"
                            + Integer.toHexString(ByteLevel.byteOf(piece.charAt(k)))
                            + ": the vocabulary has no token for it and no unknown token");
                }
            }
        }
    }

    /** The pair's index in tokenizer.ggml.merges (lowest merges first), NaN when it is not a merge. */
    private double mergeRank(String word, int start, int leftLen, int rightLen) {
        Integer rank = ranks.get(word.substring(start, start + leftLen) + " "
                + word.substring(start + leftLen, start + leftLen + rightLen));
        return rank == null ? Double.NaN : rank;
    }
}
