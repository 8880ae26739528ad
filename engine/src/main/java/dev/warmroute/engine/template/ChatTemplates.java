package dev.warmroute.engine.template;

import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.util.List;

/**
 * Picks the built-in template for a model. GGUF files carry a Jinja template in {@code tokenizer.chat_template};
 * we do not run Jinja but recognise the common families by their markers. What was chosen and why is returned with
 * the template, so the loader can log it (a model whose template is not recognised gets the plain tagged format,
 * which works but is not what the model was tuned on: that must be visible).
 */
public final class ChatTemplates {

    public static final List<String> NAMES = List.of("llama2", "llama3", "chatml", "tagged");

    /** The chosen template and the reason, e.g. "tokenizer.chat_template has &lt;|im_start|&gt;". */
    public record Selection(ChatTemplate template, String reason) {}

    private ChatTemplates() {}

    /** A template by name; throws naming the missing token when the vocabulary cannot express it. */
    public static ChatTemplate byName(String name, Tokenizer tok) {
        return switch (name) {
            case "llama2" -> new Llama2Template(tok);
            case "llama3" -> new Llama3Template(tok);
            case "chatml" -> new ChatMlTemplate(tok);
            case "tagged" -> new TaggedTemplate(tok);
            default -> throw new IllegalArgumentException("chat template '" + name + "' is unknown (known: "
                    + String.join(", ", NAMES) + ")");
        };
    }

    /** The family a Jinja chat template belongs to, by its markers, or null. */
    public static String recognise(String jinja) {
        if (jinja == null || jinja.isBlank()) {
            return null;
        }
        if (jinja.contains("<|start_header_id|>") && jinja.contains("<|eot_id|>")) {
            return "llama3";
        }
        if (jinja.contains("<|im_start|>") && jinja.contains("<|im_end|>")) {
            return "chatml";
        }
        if (jinja.contains("[INST]") && jinja.contains("<<SYS>>")) {
            return "llama2";
        }
        return null;
    }

    /** The template for a model with this {@code tokenizer.chat_template} (null when the file has none). */
    public static Selection select(String jinja, Tokenizer tok) {
        if (jinja == null || jinja.isBlank()) {
            return new Selection(new TaggedTemplate(tok), "no tokenizer.chat_template: plain tagged format");
        }
        String family = recognise(jinja);
        if (family == null) {
            return new Selection(new TaggedTemplate(tok),
                    "tokenizer.chat_template not recognised (not llama2, llama3 or chatml): plain tagged format");
        }
        try {
            return new Selection(byName(family, tok), "tokenizer.chat_template recognised as " + family);
        } catch (IllegalArgumentException e) {
            return new Selection(new TaggedTemplate(tok), "tokenizer.chat_template looks like " + family
                    + " but " + e.getMessage() + ": plain tagged format");
        }
    }

    public static Selection forModel(GgufFile file, Tokenizer tok) {
        return select(file.contains("tokenizer.chat_template") ? file.getString("tokenizer.chat_template") : null, tok);
    }
}
