package dev.warmroute.cli.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the metric names out of a Grafana dashboard's PromQL expressions. */
final class Dashboard {

    /** Our metrics and the JVM's: every name a panel may use starts with one of these prefixes. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:warmroute|jvm|process)_[A-Za-z0-9_]+)");
    /** Label matchers and grouping clauses name labels, not metrics. */
    private static final Pattern LABELS = Pattern.compile("\\{[^}]*}|\\b(?:by|without)\\s*\\([^)]*\\)");

    private Dashboard() {}

    /** The metric names that panels of {@code file} use and no scrape in {@code scrapes} shows. */
    static List<String> missingMetrics(Path file, List<String> scrapes) throws IOException {
        Set<String> exported = new LinkedHashSet<>();
        for (String s : scrapes) {
            exported.addAll(Scrape.names(s));
        }
        JsonNode root = NodeScripts.JSON.readTree(file.toFile());
        Set<String> used = new LinkedHashSet<>();
        int expressions = collect(root.path("panels"), used);
        if (expressions == 0 || used.isEmpty()) {
            throw new AssertionError(file + " has no panel with a PromQL expression");
        }
        List<String> missing = new ArrayList<>();
        for (String name : used) {
            if (!exported.contains(name)) {
                missing.add(name);
            }
        }
        return missing;
    }

    /** Adds the metric names of every target of every panel (rows' panels included); returns the expressions seen. */
    private static int collect(JsonNode panels, Set<String> used) {
        int n = 0;
        for (JsonNode panel : panels) {
            n += collect(panel.path("panels"), used);
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText("");
                if (expr.isEmpty()) {
                    continue;
                }
                n++;
                Matcher m = METRIC.matcher(LABELS.matcher(expr).replaceAll(""));
                while (m.find()) {
                    used.add(m.group(1));
                }
            }
        }
        return n;
    }
}
