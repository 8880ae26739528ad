package dev.warmroute.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, by the regexes llama.cpp uses for each {@code tokenizer.ggml.pre}
 * value. Several regexes apply in sequence, as llama.cpp's {@code unicode_regex_split} does: each one splits every
 * piece left by the previous one into its matches and the gaps between them, and all non-empty parts are kept.
 *
 * <p>An unknown pre-tokenizer name is an error (llama.cpp refuses such files too): a wrong split would give ids
 * the model was never trained on, silently.
 */
final class PreTokenizer {

    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final String name;
    private final List<Pattern> patterns;
    /** llama.cpp's "ignore_merges": a word that is itself a token is not split by merges (Llama 3). */
    private final boolean ignoreMerges;

    private PreTokenizer(String name, boolean ignoreMerges, String... regexes) {
        this.name = name;
        this.ignoreMerges = ignoreMerges;
        this.patterns = new ArrayList<>();
        for (String r : regexes) {
            patterns.add(Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS));
        }
    }

    static boolean isLlama3(String pre) {
        return pre != null && switch (pre.toLowerCase(Locale.ROOT)) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> true;
            default -> false;
        };
    }

    /** The pre-tokenizer for a {@code tokenizer.ggml.pre} value; null or "default" is llama.cpp's default. */
    static PreTokenizer named(String pre) {
        if (pre == null || pre.isEmpty() || pre.equals("default")) {
            return new PreTokenizer("default", false,
                    "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
        }
        if (isLlama3(pre)) {
            return new PreTokenizer(pre, true, LLAMA3);
        }
        return switch (pre) {
            case "gpt2", "gpt-2", "mpt", "olmo", "jais" -> new PreTokenizer(pre, false, GPT2);
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone" ->
                    new PreTokenizer(pre, false, "\\p{N}", GPT2);
            case "qwen2", "stablelm2", "deepseek-r1-qwen" -> new PreTokenizer(pre, false, QWEN2);
            default -> throw new IllegalArgumentException("tokenizer.ggml.pre '" + pre + "' is not supported "
                    + "(supported: default, llama-bpe/llama3, gpt2/mpt/olmo, smollm/starcoder/refact, qwen2)");
        };
    }

    String name() {
        return name;
    }

    boolean ignoreMerges() {
        return ignoreMerges;
    }

    List<String> split(String text) {
        List<String> pieces = List.of(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>();
            for (String piece : pieces) {
                Matcher m = p.matcher(piece);
                int last = 0;
                while (m.find()) {
                    if (m.start() > last) {
                        next.add(piece.substring(last, m.start()));
                    }
                    if (m.end() > m.start()) {
                        next.add(piece.substring(m.start(), m.end()));
                    }
                    last = m.end();
                }
                if (last < piece.length()) {
                    next.add(piece.substring(last));
                }
            }
            pieces = next;
        }
        return pieces;
    }
}
