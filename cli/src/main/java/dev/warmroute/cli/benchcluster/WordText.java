package dev.warmroute.cli.benchcluster;

import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * Seeded English-like text of a given size in tokens, measured with the model's own tokenizer (the synthetic
 * vocabulary compresses text poorly, about 1.6 characters per token, so sizes in characters would mislead).
 */
final class WordText {

    private static final String[] WORDS = ("the a of and to in is was that for it with as on be at by this had not are "
            + "but from or have an they which one you were her all she there would their we him been has when who will "
            + "more no if out so said what up its about into than them can only other new some could time these two may "
            + "then do first any my now such like our over man me even most made after also did many before must "
            + "through back years where much your way well down should because each just those people how too little "
            + "state good very make world still own see men work long get here between both life being under never day "
            + "same another know while last might us great old year off come since against go came right used take "
            + "three small house garden river window morning story letter water mountain village market winter summer "
            + "bridge forest castle island harbour lantern kitchen teacher captain doctor farmer painter stranger "
            + "question answer reason history report result figure number problem system answerable").split(" ");

    private final ToIntFunction<String> tokens;

    /** @param tokens tokens of a text under the model's tokenizer (message content, as the worker counts it) */
    WordText(ToIntFunction<String> tokens) {
        this.tokens = tokens;
    }

    /** Text of about {@code target} tokens (exactly, unless one word straddles the target), from {@code random}. */
    String ofTokens(int target, Random random) {
        StringBuilder sb = new StringBuilder();
        // Grow by estimated chunks, then word by word near the target: tokenizing is cheap but not free.
        while (true) {
            int have = sb.isEmpty() ? 0 : tokens.applyAsInt(sb.toString());
            int missing = target - have;
            if (missing <= 0) {
                return sb.toString();
            }
            int words = Math.max(1, missing / 6);
            for (int i = 0; i < words; i++) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(WORDS[random.nextInt(WORDS.length)]);
            }
            if (missing <= 6) {
                sb.append(random.nextInt(4) == 0 ? '.' : "");
            }
        }
    }
}
