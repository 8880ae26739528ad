package dev.warmroute.cli;

import dev.warmroute.engine.ContextOverflowException;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.Sampler;
import dev.warmroute.engine.TokenRandom;
import dev.warmroute.engine.tokenizer.TextDecoder;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Text generation from a prompt, printed as llama2.c's {@code run} prints it: the prompt, then the generated text
 * streamed as it comes, then a newline; statistics go to stderr.
 */
@Command(name = "generate", description = {
        "Generate text with a llama GGUF model: prints the prompt followed by the generated text (as llama2.c's",
        "run does) and a newline; prefill/decode statistics go to stderr."})
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model file (llama architecture).")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "Prompt text (default: empty).")
    String prompt;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256",
            description = "Tokens to generate after the prompt (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.9",
            description = "Nucleus sampling threshold in [0, 1]; 0 or 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", paramLabel = "S",
            description = "Random seed (default: from the clock, printed to stderr so a run can be repeated).")
    Long seed;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Compute threads; 0 = all cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() {
        if (maxTokens < 1) {
            throw new UserError("--max-tokens must be >= 1, got " + maxTokens);
        }
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new UserError("--temperature must be a number >= 0, got " + temperature);
        }
        if (!(topP >= 0f && topP <= 1f)) {
            throw new UserError("--top-p must be in [0, 1], got " + topP);
        }
        long s = seed != null ? seed : System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model m = EngineCli.load(model, threads)) {
            if (!m.hasTokenizer()) {
                throw new UserError("model " + model + " has no embedded tokenizer (tokenizer.ggml.* metadata)");
            }
            Tokenizer tok = m.tokenizer();
            int[] text = tok.encode(prompt);
            int bos = tok.bos() >= 0 ? 1 : 0;
            int[] promptIds = new int[text.length + bos];
            if (bos == 1) {
                promptIds[0] = tok.bos();
            }
            System.arraycopy(text, 0, promptIds, bos, text.length);
            if (promptIds.length == 0) {
                throw new UserError("the prompt is empty and the vocabulary has no BOS token to start from");
            }
            int ctx = m.config().contextLength();
            if (promptIds.length >= ctx) {
                throw new UserError("the prompt has " + promptIds.length + " tokens; the model's context length is "
                        + ctx);
            }
            int steps = Math.min(maxTokens, ctx - promptIds.length);
            KvBlockPool pool = new KvBlockPool(m.config(), m.kvBytesPerToken() * (promptIds.length + steps + 16));
            KvCache cache = m.newCache(pool);
            TextDecoder decoder = tok.newDecoder();
            for (int i = 0; i < promptIds.length; i++) { // BOS too: the piece after it drops its leading space
                out.print(decoder.push(promptIds[i]));
            }
            out.flush();

            long t0 = System.nanoTime();
            float[] logits = m.forward(cache, promptIds, 0, promptIds.length);
            long t1 = System.nanoTime();
            int generated = 0;
            long decodeStart = t1;
            while (true) {
                int pos = cache.size();
                int next = Sampler.sample(logits, temperature, topP, TokenRandom.uniform(s, "generate", 0, pos));
                generated++;
                if (next == tok.bos() || next == tok.eos()) {
                    break; // llama2.c: BOS delimits sequences
                }
                out.print(decoder.push(next));
                out.flush();
                if (generated >= steps) {
                    break;
                }
                logits = m.forward(cache, new int[] {next}, 0, 1);
            }
            long t2 = System.nanoTime();
            out.print(decoder.flush());
            out.println();
            out.flush();
            int decoded = generated - 1; // forward passes after the prefill
            err.printf("%s%n", EngineCli.describe(m));
            err.printf("prefill: %d tokens in %.1f ms (%.1f tok/s); decode: %d tokens in %.1f ms (%.1f tok/s); "
                            + "seed %d%n", promptIds.length, (t1 - t0) / 1e6, promptIds.length / ((t1 - t0) / 1e9),
                    decoded, (t2 - decodeStart) / 1e6, decoded <= 0 ? 0.0 : decoded / ((t2 - decodeStart) / 1e9), s);
            err.flush();
            return 0;
        } catch (ContextOverflowException e) {
            throw new UserError(e.getMessage());
        }
    }
}
