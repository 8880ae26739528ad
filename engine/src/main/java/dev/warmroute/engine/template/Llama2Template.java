package dev.warmroute.engine.template;

import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.Set;

/**
 * Llama 2 chat: {@code <s>[INST] <<SYS>>\n{sys}\n<</SYS>>\n\n{u1} [/INST] {a1} </s><s>[INST] {u2} [/INST]}. The
 * system block sits inside the first {@code [INST]}, so {@link #conversationStart} opens it and the first user block
 * in the window only closes it. Content is encoded with a leading space (" {u}"), the way it follows "[INST]".
 * Content is stripped, as Meta's reference code does.
 */
final class Llama2Template extends TemplateBase {

    private final int[] instOpen, sysOpen, sysClose, instClose;
    private final Set<Integer> stops;

    Llama2Template(Tokenizer tok) {
        super(tok);
        if (tok.eos() < 0) {
            throw new IllegalArgumentException("chat template llama2 needs an EOS token");
        }
        instOpen = textAtStart("[INST]");
        sysOpen = text(" <<SYS>>\n");
        sysClose = text("\n<</SYS>>\n\n");
        instClose = text(" [/INST]");
        stops = stops(tok.eos());
    }

    @Override
    public String name() {
        return "llama2";
    }

    @Override
    public int[] encodeContent(String text) {
        return tok.encodeContinuation(" " + text.strip());
    }

    @Override
    public int[] conversationStart(int[] system) {
        Ints out = new Ints().add(bos()).add(instOpen);
        if (system.length > 0) {
            out.add(sysOpen).add(system).add(sysClose);
        }
        return out.toArray();
    }

    @Override
    public int[] userBlock(int[] user, boolean firstInWindow) {
        Ints out = new Ints();
        if (!firstInWindow) {
            out.add(bos()).add(instOpen);
        }
        return out.add(user).add(instClose).toArray();
    }

    private int[] bos() {
        return tok.bos() >= 0 ? new int[] {tok.bos()} : new int[0];
    }

    @Override
    public int[] assistantHeader() {
        return new int[0];
    }

    @Override
    public int[] assistantFooter() {
        return new int[] {tok.eos()};
    }

    @Override
    public Set<Integer> stopTokens() {
        return stops;
    }
}
