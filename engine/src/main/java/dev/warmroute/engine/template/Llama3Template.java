package dev.warmroute.engine.template;

import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.Set;

/**
 * Llama 3 chat: {@code <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{sys}<|eot_id|>} then per
 * message {@code <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>}. Content is stripped, as the
 * model's own Jinja template does. Stops at EOS, {@code <|eot_id|>}, and {@code <|eom_id|>}/{@code <|end_of_text|>}
 * when the vocabulary has them.
 */
final class Llama3Template extends TemplateBase {

    private final int eot;
    private final int[] systemHeader, userHeader, assistantHeader;
    private final Set<Integer> stops;

    Llama3Template(Tokenizer tok) {
        super(tok);
        int start = required(tok, "llama3", "<|start_header_id|>");
        int end = required(tok, "llama3", "<|end_header_id|>");
        eot = required(tok, "llama3", "<|eot_id|>");
        systemHeader = header(start, "system", end);
        userHeader = header(start, "user", end);
        assistantHeader = header(start, "assistant", end);
        stops = stops(tok.eos(), eot, tok.tokenId("<|eom_id|>"), tok.tokenId("<|end_of_text|>"));
    }

    private int[] header(int start, String role, int end) {
        return new Ints().add(start).add(text(role)).add(end).add(text("\n\n")).toArray();
    }

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public int[] encodeContent(String text) {
        return tok.encodeContinuation(text.strip());
    }

    @Override
    public int[] conversationStart(int[] system) {
        Ints out = new Ints();
        if (tok.bos() >= 0) {
            out.add(tok.bos());
        }
        if (system.length > 0) {
            out.add(systemHeader).add(system).add(eot);
        }
        return out.toArray();
    }

    @Override
    public int[] userBlock(int[] user, boolean firstInWindow) {
        return new Ints().add(userHeader).add(user).add(eot).toArray();
    }

    @Override
    public int[] assistantHeader() {
        return assistantHeader.clone();
    }

    @Override
    public int[] assistantFooter() {
        return new int[] {eot};
    }

    @Override
    public Set<Integer> stopTokens() {
        return stops;
    }
}
