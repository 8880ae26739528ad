package dev.warmroute.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Fills option defaults from the environment and a config file, so that every component's typed config record is
 * filled the same way: flag, then {@code WARMROUTE_<COMMAND>_<OPTION>}, then the file's {@code command.option}
 * key, then the annotation's default. The command path excludes the root: {@code warmroute bench engine
 * --threads} reads {@code WARMROUTE_BENCH_ENGINE_THREADS} and {@code bench.engine.threads}.
 */
final class ConfigDefaults implements IDefaultValueProvider {

    private final Map<String, String> env;
    private final Map<String, String> file;

    ConfigDefaults(Map<String, String> env, Map<String, String> file) {
        this.env = Map.copyOf(env);
        this.file = Map.copyOf(file);
    }

    static ConfigDefaults from(Map<String, String> env, Path configFile) {
        return new ConfigDefaults(env, configFile == null ? Map.of() : readFile(configFile));
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || option.longestName().equals("--config")) {
            return arg.defaultValue();
        }
        String path = commandPath(option.command());
        String name = option.longestName().replaceFirst("^-+", "");
        String envKey = ("WARMROUTE_" + (path.isEmpty() ? "" : path + "_") + name)
                .replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
        String value = env.get(envKey);
        if (value == null) {
            value = file.get(path.isEmpty() ? name : path + "." + name);
        }
        return value != null ? value : arg.defaultValue();
    }

    /** "worker", "bench.engine", or "" for the root command. */
    static String commandPath(CommandSpec command) {
        StringBuilder sb = new StringBuilder();
        for (CommandSpec c = command; c != null && c.parent() != null; c = c.parent()) {
            sb.insert(0, sb.isEmpty() ? c.name() : c.name() + ".");
        }
        return sb.toString();
    }

    /** Lines of {@code key = value}; {@code #} starts a comment. Errors name the file and line. */
    static Map<String, String> readFile(Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError("config file " + path + " does not exist");
        } catch (IOException e) {
            throw new UserError("config file " + path + " cannot be read: " + e.getMessage());
        }
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new UserError("config file " + path + " line " + (i + 1)
                        + ": expected 'command.option = value', got '" + line + "'");
            }
            values.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
        return values;
    }
}
