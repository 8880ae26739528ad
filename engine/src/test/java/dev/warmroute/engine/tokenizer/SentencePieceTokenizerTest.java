package dev.warmroute.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.TestModels;
import dev.warmroute.engine.gguf.GgufFile;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SentencePiece-style tokenizer on the reference model's own 512-token vocabulary. */
class SentencePieceTokenizerTest {

    static TokenizerSpec spec;
    static Tokenizer tok;

    @BeforeAll
    static void load() {
        try (GgufFile f = GgufFile.open(TestModels.referenceModelOrSkip())) {
            spec = GgufTokenizers.specFrom(f);
        }
        tok = Tokenizer.of(spec);
    }

    @Test
    void readsTheSpecialIdsAndFlagsOfTheReferenceVocabulary() {
        assertEquals("llama", tok.model());
        assertEquals(512, tok.vocabSize());
        assertEquals(1, tok.bos());
        assertEquals(2, tok.eos());
        assertTrue(tok.addBos());
        assertTrue(tok.addsSpacePrefix());
        assertEquals(TokenType.CONTROL, tok.type(1));
        assertEquals(TokenType.BYTE, tok.type(13));
    }

    @Test
    void referenceIdsDecodeToExactlyTheReferenceText() throws Exception {
        String expected = Files.readString(TestModels.referenceFileOrSkip("stories260K-t0-n200.txt"));
        int[] ids = referenceIds();
        TextDecoder d = tok.newDecoder();
        StringBuilder sb = new StringBuilder(d.push(tok.bos()));
        for (int id : ids) {
            sb.append(d.push(id));
        }
        sb.append(d.flush());
        assertEquals(expected, sb.toString());
    }

    @Test
    void encodingTheReferenceTextGivesTheGeneratedIds() throws Exception {
        // The model generated the canonical segmentation of its own text; greedy BPE must find the same one.
        String text = Files.readString(TestModels.referenceFileOrSkip("stories260K-t0-n200.txt"));
        assertArrayEquals(referenceIds(), tok.encode(text));
    }

    @Test
    void addsTheDummyLeadingSpaceAndMergesByScore() {
        int[] ids = tok.encode("Once upon a time");
        assertEquals(List.of("▁Once", "▁upon", "▁a", "▁time"), pieces(ids));
        assertEquals(List.of("O", "n", "ce"), pieces(tok.encodeContinuation("Once")));
        assertEquals(0, tok.encode("").length);
    }

    @Test
    void charactersOutsideTheVocabularyFallBackToUtf8ByteTokens() {
        assertArrayEquals(new int[] {tok.tokenId("é")}, tok.encodeContinuation("é"));
        int[] ids = tok.encodeContinuation("ü\n");
        assertArrayEquals(new int[] {tok.tokenId("<0xC3>"), tok.tokenId("<0xBC>"), tok.tokenId("<0x0A>")}, ids);
        assertEquals("ü\n", tok.decode(tok.encode("ü\n")));
    }

    @Test
    void roundTripsTextWithUnicodeSpacesAndNewlines() {
        for (String s : List.of("Hello, world!", "  two leading spaces", "tab\tand\nnewline\n\n", "emoji 😀 and 日本語",
                "ends with space ", "Lily's mom said, \"Lily, let's go.\"", "x")) {
            assertEquals(s, tok.decode(tok.encode(s)), s);
        }
    }

    @Test
    void agreesWithLlama2cEncodeOnVariedText() {
        for (String s : List.of("Once upon a time, there was a little girl named Lily.",
                "The quick brown fox jumps over the lazy dog 1234567890!?",
                "She said: \"I can't!\" and ran away... then came back.\nThe end.",
                "unicode: naïve café — “quotes” ™ and 😀", "aaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbb", "  ")) {
            assertArrayEquals(llama2cEncode(s), tok.encode(s), s);
        }
    }

    @Test
    void controlTokenTextIsPlainTextUnlessSpecialParsingIsAsked() {
        int[] plain = tok.encodeContinuation("<s>");
        assertTrue(Arrays.stream(plain).noneMatch(id -> id == tok.bos()), Arrays.toString(plain));
        int[] special = tok.encode("a<s>b", false, true);
        assertEquals(3, special.length, Arrays.toString(special));
        assertEquals(tok.bos(), special[1]);
        // As llama.cpp: the text after a control token gets the dummy prefix again.
        assertArrayEquals(new int[] {tok.bos(), tok.tokenId("▁b")}, tok.encode("<s>b", true, true));
    }

    @Test
    void decoderDropsTheLeadingSpaceOnlyAfterBosOrWhenAsked() {
        int once = tok.tokenId("▁Once");
        TextDecoder plain = tok.newDecoder();
        assertEquals(" Once", plain.push(once));
        TextDecoder afterBos = tok.newDecoder();
        assertEquals("", afterBos.push(tok.bos()));
        assertEquals("Once", afterBos.push(once));
        assertEquals(" Once", afterBos.push(once));
        TextDecoder dropFirst = tok.newDecoder(true);
        assertEquals("Once", dropFirst.push(once));
        assertEquals(" Once", dropFirst.push(once));
    }

    @Test
    void decoderBuffersPartialUtf8AcrossByteTokens() {
        TextDecoder d = tok.newDecoder();
        int[] euro = {tok.tokenId("<0xE2>"), tok.tokenId("<0x82>"), tok.tokenId("<0xAC>")};
        assertEquals("", d.push(euro[0]));
        assertEquals("", d.push(euro[1]));
        assertEquals("€", d.push(euro[2]));
        // A lead byte followed by ASCII: the broken byte becomes U+FFFD, the ASCII survives.
        assertEquals("", d.push(euro[0]));
        assertEquals("\uFFFDa", d.push(tok.tokenId("a")));
        // An unfinished character at the end of the stream.
        assertEquals("", d.push(euro[0]));
        assertEquals("\uFFFD", d.flush());
        assertEquals("", d.flush());
    }

    @Test
    void fingerprintIsStableAndChangesWithTheVocabulary() {
        assertEquals(tok.fingerprint(), Tokenizer.of(spec).fingerprint());
        assertEquals(32, tok.fingerprint().length());
        String[] tokens = spec.tokens();
        tokens[300] = tokens[300] + "x";
        TokenizerSpec changed = TokenizerSpec.builder("llama", tokens).scores(spec.scores())
                .tokenTypes(spec.tokenTypes()).build();
        assertNotEquals(tok.fingerprint(), Tokenizer.of(changed).fingerprint());
        float[] scores = spec.scores();
        scores[300] += 0.5f;
        TokenizerSpec rescored = TokenizerSpec.builder("llama", spec.tokens()).scores(scores)
                .tokenTypes(spec.tokenTypes()).build();
        assertNotEquals(tok.fingerprint(), Tokenizer.of(rescored).fingerprint());
        TokenizerSpec noPrefix = TokenizerSpec.builder("llama", spec.tokens()).scores(spec.scores())
                .tokenTypes(spec.tokenTypes()).addSpacePrefix(false).build();
        assertNotEquals(tok.fingerprint(), Tokenizer.of(noPrefix).fingerprint());
    }

    static int[] referenceIds() throws Exception {
        String s = Files.readString(TestModels.referenceFileOrSkip("stories260K-t0-n200.ids")).strip();
        return Arrays.stream(s.split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    private static List<String> pieces(int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(tok.piece(id));
        }
        return out;
    }

    /**
     * llama2.c's encode, transcribed as a second, independent algorithm: characters (or their byte tokens) first,
     * then repeatedly merge the best-scoring adjacent pair found by a full rescan.
     */
    private static int[] llama2cEncode(String text) {
        Map<String, Integer> vocab = new HashMap<>();
        for (int i = 0; i < spec.tokens().length; i++) {
            vocab.putIfAbsent(spec.tokens()[i], i);
        }
        List<Integer> ids = new ArrayList<>();
        if (!text.isEmpty()) {
            ids.add(vocab.get("▁"));
        }
        String t = text.replace(' ', '▁');
        for (int off = 0; off < t.length(); ) {
            int cp = t.codePointAt(off);
            String ch = new String(Character.toChars(cp));
            Integer id = vocab.get(ch);
            if (id != null) {
                ids.add(id);
            } else {
                for (byte b : ch.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    ids.add((b & 0xFF) + 3);
                }
            }
            off += Character.charCount(cp);
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (int i = 0; i + 1 < ids.size(); i++) {
                Integer id = vocab.get(spec.tokens()[ids.get(i)] + spec.tokens()[ids.get(i + 1)]);
                if (id != null && spec.scores()[id] > best) {
                    best = spec.scores()[id];
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            ids.set(bestIdx, bestId);
            ids.remove(bestIdx + 1);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
