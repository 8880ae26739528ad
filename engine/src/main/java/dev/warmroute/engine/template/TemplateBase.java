package dev.warmroute.engine.template;

import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/** Helpers the built-in templates share: text fragments, required control tokens, BOS and stop sets. */
abstract class TemplateBase implements ChatTemplate {

    protected final Tokenizer tok;

    TemplateBase(Tokenizer tok) {
        this.tok = tok;
    }

    /** A template text fragment in the middle of the prompt: no dummy prefix, no control-token parsing. */
    protected int[] text(String s) {
        return tok.encodeContinuation(s);
    }

    /** A fragment at the start of a sequence (after BOS): gets SentencePiece's dummy prefix, as llama.cpp does. */
    protected int[] textAtStart(String s) {
        return tok.encode(s, tok.addsSpacePrefix(), false);
    }

    /** BOS when the model wants prompts to start with it, else nothing. */
    protected int[] bosIfWanted() {
        return tok.addBos() && tok.bos() >= 0 ? new int[] {tok.bos()} : new int[0];
    }

    /** The id of a control token the template cannot work without. */
    static int required(Tokenizer tok, String template, String text) {
        int id = tok.tokenId(text);
        if (id < 0) {
            throw new IllegalArgumentException("chat template " + template + " needs the token " + text
                    + ", which the vocabulary does not have");
        }
        return id;
    }

    static Set<Integer> stops(int... ids) {
        Set<Integer> s = new LinkedHashSet<>();
        for (int id : ids) {
            if (id >= 0) {
                s.add(id);
            }
        }
        return Collections.unmodifiableSet(s);
    }

    @Override
    public String toString() {
        return name();
    }
}
