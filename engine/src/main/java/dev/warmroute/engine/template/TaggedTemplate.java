package dev.warmroute.engine.template;

import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.Set;

/**
 * The seed's plain role-tagged format, for base models without a chat template (such as the reference model):
 * <pre>
 * &lt;system&gt;\n{sys}\n&lt;/system&gt;\n&lt;user&gt;\n{u}\n&lt;/user&gt;\n&lt;assistant&gt;\n{a}\n&lt;/assistant&gt;\n
 * </pre>
 * Content follows a newline, so it is encoded without SentencePiece's dummy space. Generation stops at EOS and at
 * BOS: llama2.c-style base models emit BOS between documents, and llama2.c stops there.
 */
final class TaggedTemplate extends TemplateBase {

    private final int[] systemOpen, systemClose, userOpen, userClose, header, footer;
    private final Set<Integer> stops;

    TaggedTemplate(Tokenizer tok) {
        super(tok);
        systemOpen = text("<system>\n");
        systemClose = text("\n</system>\n");
        userOpen = text("<user>\n");
        userClose = text("\n</user>\n");
        header = text("<assistant>\n");
        footer = text("\n</assistant>\n");
        stops = stops(tok.eos(), tok.bos());
    }

    @Override
    public String name() {
        return "tagged";
    }

    @Override
    public int[] encodeContent(String text) {
        return tok.encodeContinuation(text);
    }

    @Override
    public int[] conversationStart(int[] system) {
        Ints out = new Ints().add(bosIfWanted());
        if (system.length > 0) {
            out.add(systemOpen).add(system).add(systemClose);
        }
        return out.toArray();
    }

    @Override
    public int[] userBlock(int[] user, boolean firstInWindow) {
        return new Ints().add(userOpen).add(user).add(userClose).toArray();
    }

    @Override
    public int[] assistantHeader() {
        return header.clone();
    }

    @Override
    public int[] assistantFooter() {
        return footer.clone();
    }

    @Override
    public Set<Integer> stopTokens() {
        return stops;
    }
}
