package dev.warmroute.engine.synth;

import dev.warmroute.engine.tokenizer.TokenType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A SentencePiece-style vocabulary for synthetic models, laid out like Llama's: {@code <unk>}, {@code <s>},
 * {@code </s>}, the 256 byte tokens {@code <0x00>..<0xFF>}, then pieces with descending scores. The pieces are built
 * as BPE would build them: base characters first, then each new piece is the concatenation of two earlier pieces
 * (so the encoder can reach every piece by merging), word-like ("▁" only at the start, letters after). It depends
 * only on the vocabulary size, so all synthetic models of a size share one tokenizer fingerprint.
 */
public final class SyntheticVocabulary {

    private static final String SPACE = "\u2581";
    private static final String PUNCT = ".,!?'\";:-()";
    private static final int MAX_PIECE = 12;

    public final String[] tokens;
    public final float[] scores;
    public final int[] types;

    private SyntheticVocabulary(String[] tokens, float[] scores, int[] types) {
        this.tokens = tokens;
        this.scores = scores;
        this.types = types;
    }

    private static List<String> basePieces() {
        List<String> base = new ArrayList<>();
        base.add(SPACE);
        for (char c = 'a'; c <= 'z'; c++) base.add(String.valueOf(c));
        for (char c = 'A'; c <= 'Z'; c++) base.add(String.valueOf(c));
        for (char c = '0'; c <= '9'; c++) base.add(String.valueOf(c));
        for (char c : PUNCT.toCharArray()) base.add(String.valueOf(c));
        for (char c = 'a'; c <= 'z'; c++) base.add(SPACE + c);
        for (char c = 'A'; c <= 'Z'; c++) base.add(SPACE + c);
        return base;
    }

    static int baseSize() {
        return 3 + 256 + basePieces().size();
    }

    public static SyntheticVocabulary of(int size) {
        if (size < baseSize()) {
            throw new IllegalArgumentException("vocabulary size " + size + " is below the minimum " + baseSize());
        }
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        types[0] = TokenType.UNKNOWN.code();
        tokens[1] = "<s>";
        types[1] = TokenType.CONTROL.code();
        tokens[2] = "</s>";
        types[2] = TokenType.CONTROL.code();
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = TokenType.BYTE.code();
        }
        List<String> pieces = new ArrayList<>(basePieces());
        Set<String> seen = new HashSet<>(pieces);
        List<String> lowerTails = new ArrayList<>(); // pieces of lowercase letters only: the right side of merges
        for (String p : pieces) {
            if (p.length() == 1 && Character.isLowerCase(p.charAt(0))) {
                lowerTails.add(p);
            }
        }
        List<String> heads = new ArrayList<>(); // word-like pieces: the left side of merges
        for (String p : pieces) {
            if (p.startsWith(SPACE) || Character.isLetter(p.charAt(0))) {
                heads.add(p);
            }
        }
        SplittableRandom r = new SplittableRandom(0x5EEDL * 31 + size);
        int want = size - 259;
        int attempts = 0;
        while (pieces.size() < want) {
            if (++attempts > 1000L * size) {
                throw new IllegalStateException("could not generate " + want + " distinct pieces");
            }
            // Favour early (short, frequent) pieces, as real merge lists do.
            String left = heads.get((int) (heads.size() * Math.pow(r.nextDouble(), 2)));
            String right = lowerTails.get((int) (lowerTails.size() * Math.pow(r.nextDouble(), 3)));
            String p = left + right;
            if (p.length() > MAX_PIECE || !seen.add(p)) {
                continue;
            }
            pieces.add(p);
            heads.add(p);
            if (!p.startsWith(SPACE) && p.chars().allMatch(Character::isLowerCase)) {
                lowerTails.add(p);
            }
        }
        for (int i = 0; i < want; i++) {
            tokens[259 + i] = pieces.get(i);
            scores[259 + i] = -i;
            types[259 + i] = TokenType.NORMAL.code();
        }
        return new SyntheticVocabulary(tokens, scores, types);
    }
}
