package dev.warmroute.cli.http;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** Reads the Prometheus text format as a scrape of {@code /metrics} returns it. */
final class Scrape {

    private Scrape() {}

    /** Every sample, keyed by its name and labels as written ({@code name{a="b"}}), with its value. */
    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    /** The metric names a scrape shows: sample names ({@code x_bucket}, {@code x_total}, ...) and declared families. */
    static Set<String> names(String text) {
        Set<String> out = new LinkedHashSet<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                out.add(line.split(" ")[2]);
            } else if (!line.isBlank() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                out.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
            }
        }
        return out;
    }
}
