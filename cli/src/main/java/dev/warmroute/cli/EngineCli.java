package dev.warmroute.cli;

import dev.warmroute.engine.EngineOptions;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the engine commands share: loading a model with errors a user can act on. */
final class EngineCli {
    private EngineCli() {}

    static Model load(Path path, int threads) {
        if (path == null) {
            throw new UserError("--model is required (a llama GGUF file, e.g. ../shared/models/stories260K.gguf)");
        }
        if (!Files.exists(path)) {
            throw new UserError("model file " + path + " does not exist");
        }
        if (threads < 0) {
            throw new UserError("--threads must be >= 0 (0 = all cores), got " + threads);
        }
        try {
            return Model.load(path, EngineOptions.builder().threads(threads).build());
        } catch (ModelLoadException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    static String describe(Model m) {
        var c = m.config();
        return m.id() + (m.synthetic() ? " (SYNTHETIC random weights)" : "") + ": " + c.architecture()
                + " dim " + c.dim() + ", " + c.layers() + " layers, " + c.heads() + "/" + c.kvHeads()
                + " heads, hidden " + c.hiddenDim() + ", vocab " + c.vocabSize() + ", context "
                + c.contextLength() + ", " + c.weightType() + ", " + m.options().threads() + " threads";
    }
}
