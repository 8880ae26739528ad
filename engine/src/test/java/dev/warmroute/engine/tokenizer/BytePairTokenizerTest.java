package dev.warmroute.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Byte-level BPE on a small hand-built GPT-2-style vocabulary whose expected ids are worked out by hand. */
class BytePairTokenizerTest {

    // ids 0..255: the byte-level spelling of byte i; then merged tokens and specials.
    static final int G_T = 256, HE = 257, G_THE = 258, LL = 259, HELL = 260, HELLO = 261, G_W = 262, OR = 263, G_WOR = 264,
            LD = 265, G_WORLD = 266, EOT = 267, USER = 268, G_XY = 269, BOS = 270;
    static final String[] MERGES = {"Ġ t", "h e", "Ġt he", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d",
            "Ġwor ld"};

    static TokenizerSpec spec(String pre, String[] merges) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(ByteLevel.encode(new byte[] {(byte) b}));
        }
        tokens.addAll(List.of("Ġt", "he", "Ġthe", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld",
                "<|eot|>", "<|user|>", "Ġxy", "<|begin|>"));
        int[] types = new int[tokens.size()];
        Arrays.fill(types, TokenType.NORMAL.code());
        types[EOT] = TokenType.CONTROL.code();
        types[BOS] = TokenType.CONTROL.code();
        types[USER] = TokenType.USER_DEFINED.code();
        return TokenizerSpec.builder("gpt2", tokens.toArray(String[]::new)).pre(pre).merges(merges)
                .tokenTypes(types).bos(BOS).eos(EOT).build();
    }

    static final Tokenizer GPT2 = Tokenizer.of(spec("gpt2", MERGES));

    @Test
    void appliesMergesInRankOrderWithinPreTokenizedWords() {
        assertArrayEquals(new int[] {HELLO, G_THE, G_WORLD}, GPT2.encode("hello the world"));
        assertArrayEquals(new int[] {HELLO, 's'}, GPT2.encode("hellos"));
        // Equal ranks: the leftmost pair merges first.
        assertArrayEquals(new int[] {LL, 'l'}, GPT2.encode("lll"));
        // No dummy prefix in byte-level BPE, whatever is asked.
        assertArrayEquals(new int[] {HELLO}, GPT2.encode("hello", true, false));
        assertEquals(0, GPT2.encode("").length);
    }

    @Test
    void splitsWordsWithTheGpt2AndLlama3Regexes() {
        assertEquals(List.of("Hello", " world", "'s", " ", " 12", "!!", "\n"),
                PreTokenizer.named("gpt2").split("Hello world's  12!!\n"));
        assertEquals(List.of("Hello", " world", "'s", " ", "123", "4", "!!\n"),
                PreTokenizer.named("llama-bpe").split("Hello world's 1234!!\n"));
        assertEquals(List.of("a", " ", "1", "2", "3"), PreTokenizer.named("smollm").split("a 123"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.named("nope"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre 'nope'"), e.getMessage());
    }

    @Test
    void llama3KeepsAWordThatIsATokenWithoutMerging() {
        Tokenizer llama3 = Tokenizer.of(spec("llama-bpe", MERGES));
        assertArrayEquals(new int[] {G_XY}, llama3.encode(" xy"));
        assertEquals(List.of("Ġ", "x", "y"), pieces(GPT2, GPT2.encode(" xy")));
    }

    @Test
    void multiByteCharactersAreSpelledAsBytesAndDecodeWhole() {
        int[] ids = GPT2.encode("é");
        assertArrayEquals(new int[] {0xC3, 0xA9}, ids);
        TextDecoder d = GPT2.newDecoder();
        assertEquals("", d.push(ids[0]));
        assertEquals("é", d.push(ids[1]));
        String text = "hello the world — naïve 😀\n\ttabs";
        assertEquals(text, GPT2.decode(GPT2.encode(text)));
    }

    @Test
    void controlTokensOnlyWhenAskedUserDefinedAlways() {
        assertArrayEquals(new int[] {'h', 'i', EOT}, GPT2.encode("hi<|eot|>", false, true));
        int[] plain = GPT2.encode("hi<|eot|>");
        assertTrue(Arrays.stream(plain).noneMatch(id -> id == EOT), Arrays.toString(plain));
        assertEquals("hi<|eot|>", GPT2.decode(plain));
        assertArrayEquals(new int[] {USER, HELLO}, GPT2.encode("<|user|>hello"));
        assertEquals(EOT, GPT2.tokenId("<|eot|>"));
        // Control tokens print nothing; user-defined ones print their text; no space is dropped after BOS.
        TextDecoder d = GPT2.newDecoder();
        assertEquals("", d.push(BOS));
        assertEquals(" the", d.push(G_THE));
        assertEquals("", d.push(EOT));
        assertEquals("<|user|>", d.push(USER));
    }

    @Test
    void fingerprintChangesWithTheMergesAndThePreTokenizer() {
        assertEquals(GPT2.fingerprint(), Tokenizer.of(spec("gpt2", MERGES)).fingerprint());
        assertNotEquals(GPT2.fingerprint(),
                Tokenizer.of(spec("gpt2", Arrays.copyOf(MERGES, MERGES.length - 1))).fingerprint());
        assertNotEquals(GPT2.fingerprint(), Tokenizer.of(spec("llama-bpe", MERGES)).fingerprint());
    }

    @Test
    void rejectsInconsistentSpecsNamingTheKey() {
        String[] tokens = {"a", "b"};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerSpec.builder("gpt2", tokens).build());
        assertTrue(e.getMessage().contains("tokenizer.ggml.merges"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerSpec.builder("llama", tokens).scores(new float[3]).build());
        assertTrue(e.getMessage().contains("tokenizer.ggml.scores"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerSpec.builder("llama", tokens).bos(7).build());
        assertTrue(e.getMessage().contains("tokenizer.ggml.bos_token_id = 7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TokenizerSpec.builder("bert", tokens).build());
        assertTrue(e.getMessage().contains("tokenizer.ggml.model 'bert'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GPT2.newDecoder().push(9999));
    }

    private static List<String> pieces(Tokenizer t, int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(t.piece(id));
        }
        return out;
    }

    static {
        // Sanity of the table the test relies on: printable ASCII spells itself.
        assertEquals("a", ByteLevel.encode("a".getBytes(StandardCharsets.UTF_8)));
    }
}
