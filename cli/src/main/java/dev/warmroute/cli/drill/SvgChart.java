package dev.warmroute.cli.drill;

import java.util.List;
import java.util.Locale;

/**
 * A self-contained SVG of a drill: each turn's time to first token over time (a dot, coloured by cache outcome),
 * the warm-hit rate per second as a line on the right axis, and the fault as a red vertical line. No library: an
 * SVG opens in any browser and diffs as text.
 */
public final class SvgChart {

    private static final int W = 960;
    private static final int H = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 60;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;

    private SvgChart() {}

    /** A moment to mark with a vertical line: the fault, a restart, the cluster being safe again. */
    public record Marker(double atMs, String label) {}

    public static String render(String title, List<TurnRecord> turns, List<DrillReport.Bucket> timeline,
            double faultAtMs, String faultLabel) {
        return render(title, turns, timeline, faultAtMs < 0 ? List.of() : List.of(new Marker(faultAtMs, faultLabel)));
    }

    /** The first marker is the fault (red); later ones (the fault's further steps) are drawn in grey. */
    public static String render(String title, List<TurnRecord> turns, List<DrillReport.Bucket> timeline,
            List<Marker> markers) {
        double maxT = Math.max(1000, turns.stream().mapToDouble(t -> t.startMs() + Math.max(0, t.ttftMs()))
                .max().orElse(1000));
        maxT = Math.max(maxT, markers.stream().mapToDouble(Marker::atMs).max().orElse(0) + 500);
        double maxTtft = Math.max(1, turns.stream().filter(TurnRecord::ok).mapToDouble(TurnRecord::ttftMs)
                .max().orElse(1));
        maxTtft = niceCeiling(maxTtft);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                        + "font-size=\"12\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n", W, H));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>%n", LEFT,
                escape(title)));
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        svg.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n",
                LEFT, TOP, pw, ph));
        for (int i = 0; i <= 4; i++) {
            double v = maxTtft * i / 4;
            double y = TOP + ph - ph * i / 4.0;
            svg.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>"
                            + "<text x=\"%d\" y=\"%.1f\">%d%%</text>%n",
                    LEFT, y, LEFT + pw, y, LEFT - 6, y + 4, v, LEFT + pw + 6, y + 4, i * 25));
        }
        int seconds = (int) Math.ceil(maxT / 1000);
        int step = Math.max(1, seconds / 12);
        for (int s = 0; s <= seconds; s += step) {
            double x = LEFT + pw * (s * 1000.0 / maxT);
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ds</text>%n",
                    x, TOP + ph + 16, s));
        }
        svg.append(String.format(Locale.ROOT,
                "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" text-anchor=\"middle\">time to first token"
                        + " (ms)</text>%n", TOP + ph / 2, TOP + ph / 2));
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start (s)</text>%n",
                LEFT + pw / 2, H - 12));
        for (TurnRecord t : turns) {
            double x = LEFT + pw * (t.startMs() / maxT);
            if (!t.ok()) {
                svg.append(String.format(Locale.ROOT,
                        "<text x=\"%.1f\" y=\"%d\" fill=\"#d00\" text-anchor=\"middle\">x</text>%n", x, TOP + 12));
                continue;
            }
            double y = TOP + ph - ph * Math.min(1, t.ttftMs() / maxTtft);
            svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\"/>%n",
                    x, y, colour(t.cache())));
        }
        StringBuilder line = new StringBuilder();
        for (DrillReport.Bucket b : timeline) {
            if (b.turns() == 0) {
                continue;
            }
            double x = LEFT + pw * ((b.second() + 0.5) * 1000 / maxT);
            double y = TOP + ph - ph * b.hitRate();
            line.append(line.isEmpty() ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
        }
        if (!line.isEmpty()) {
            svg.append("<path d=\"").append(line).append("\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"1.5\"/>\n");
        }
        for (int i = 0; i < markers.size(); i++) {
            Marker m = markers.get(i);
            double fx = LEFT + pw * (Math.min(m.atMs(), maxT) / maxT);
            String colour = i == 0 ? "#d00" : "#777";
            svg.append(String.format(Locale.ROOT,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s/>"
                            + "<text x=\"%.1f\" y=\"%d\" fill=\"%s\">%s</text>%n",
                    fx, TOP, fx, TOP + ph, colour, i == 0 ? "2" : "1", i == 0 ? "" : " stroke-dasharray=\"4 3\"",
                    fx + 4, TOP + 14 + 14 * i, colour, escape(m.label())));
        }
        int lx = LEFT + pw - 300;
        svg.append(String.format(Locale.ROOT,
                "<g transform=\"translate(%d,%d)\"><circle cx=\"0\" cy=\"0\" r=\"4\" fill=\"%s\"/>"
                        + "<text x=\"8\" y=\"4\">warm</text><circle cx=\"60\" cy=\"0\" r=\"4\" fill=\"%s\"/>"
                        + "<text x=\"68\" y=\"4\">partial</text><circle cx=\"130\" cy=\"0\" r=\"4\" fill=\"%s\"/>"
                        + "<text x=\"138\" y=\"4\">cold</text><line x1=\"185\" y1=\"0\" x2=\"205\" y2=\"0\" "
                        + "stroke=\"#2a7\" stroke-width=\"1.5\"/><text x=\"210\" y=\"4\">warm-hit rate</text></g>%n",
                lx, TOP - 10, colour("warm"), colour("partial"), colour("cold")));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static String colour(String cache) {
        return switch (cache) {
            case "warm" -> "#2a7";
            case "partial" -> "#e90";
            case "cold" -> "#36c";
            default -> "#888";
        };
    }

    private static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
