package dev.warmroute.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

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

    private record Bigram(int left, int right, int rank, int size) {}

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
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(word, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left, r = bg.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bg.size) {
                continue;
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                addBigram(word, len, prev[l], l, queue);
            }
            if (next[l] >= 0) {
                addBigram(word, len, l, next[l], queue);
            }
        }
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

    private void addBigram(String word, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        // Symbols are contiguous: left starts at index left, right at index right == left + len[left].
        Integer rank = ranks.get(word.substring(left, left + len[left]) + " "
                + word.substring(right, right + len[right]));
        if (rank != null) {
            queue.add(new Bigram(left, right, rank, len[left] + len[right]));
        }
    }
}
