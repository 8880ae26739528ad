package dev.warmroute.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small file a server writes once it is ready to serve, naming the ports it bound (servers start on port 0 in
 * tests and drills). Written atomically (temp file + rename) so a reader never sees half of it. The format is a flat
 * JSON object of strings and numbers, e.g. {@code {"role":"worker","grpc_port":41234,"pid":777}}.
 */
public final class ReadyFile {

    private static final Pattern ENTRY = Pattern.compile("\"([^\"]+)\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|-?[0-9.]+)");

    private ReadyFile() {}

    public static void write(Path path, Map<String, ?> values) throws IOException {
        StringBuilder json = new StringBuilder("{");
        for (var e : values.entrySet()) {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            if (v instanceof Number) {
                json.append(v);
            } else {
                json.append('"').append(String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        json.append("}\n");
        Path parent = path.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".ready", ".tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads a ready file; values are strings (numbers as their text). */
    public static Map<String, String> read(Path path) throws IOException {
        String text = Files.readString(path, StandardCharsets.UTF_8);
        Map<String, String> values = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(text);
        while (m.find()) {
            values.put(m.group(1), m.group(3) != null ? m.group(3).replace("\\\"", "\"").replace("\\\\", "\\")
                    : m.group(2));
        }
        return values;
    }
}
