package dev.warmroute.cli.drill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the drill tests' figures from {@code drill --json} output (one flat object with a few nested lists). */
final class DrillJson {

    private DrillJson() {}

    /** The first number under {@code key}; fails the test, showing the output, when there is none. */
    static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.]+)").matcher(json);
        assertTrue(m.find(), key + " missing in " + json);
        return Double.parseDouble(m.group(1));
    }
}
