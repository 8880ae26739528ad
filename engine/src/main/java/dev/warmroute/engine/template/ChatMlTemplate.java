package dev.warmroute.engine.template;

import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.Set;

/**
 * ChatML (Qwen, SmolLM, many fine-tunes): {@code <|im_start|>{role}\n{content}<|im_end|>\n}. BOS only when the
 * tokenizer asks for it ({@code tokenizer.ggml.add_bos_token}). Stops at EOS and {@code <|im_end|>}.
 */
final class ChatMlTemplate extends TemplateBase {

    private final int imEnd;
    private final int[] systemHeader, userHeader, assistantHeader, newline;
    private final Set<Integer> stops;

    ChatMlTemplate(Tokenizer tok) {
        super(tok);
        int imStart = required(tok, "chatml", "<|im_start|>");
        imEnd = required(tok, "chatml", "<|im_end|>");
        systemHeader = new Ints().add(imStart).add(text("system\n")).toArray();
        userHeader = new Ints().add(imStart).add(text("user\n")).toArray();
        assistantHeader = new Ints().add(imStart).add(text("assistant\n")).toArray();
        newline = text("\n");
        stops = stops(tok.eos(), imEnd);
    }

    @Override
    public String name() {
        return "chatml";
    }

    @Override
    public int[] encodeContent(String text) {
        return tok.encodeContinuation(text);
    }

    @Override
    public int[] conversationStart(int[] system) {
        Ints out = new Ints().add(bosIfWanted());
        if (system.length > 0) {
            out.add(systemHeader).add(system).add(imEnd).add(newline);
        }
        return out.toArray();
    }

    @Override
    public int[] userBlock(int[] user, boolean firstInWindow) {
        return new Ints().add(userHeader).add(user).add(imEnd).add(newline).toArray();
    }

    @Override
    public int[] assistantHeader() {
        return assistantHeader.clone();
    }

    @Override
    public int[] assistantFooter() {
        return new Ints().add(imEnd).add(newline).toArray();
    }

    @Override
    public Set<Integer> stopTokens() {
        return stops;
    }
}
