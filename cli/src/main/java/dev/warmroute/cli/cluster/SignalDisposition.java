package dev.warmroute.cli.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this process ignores SIGINT. A shell without job control (a script, CI, {@code cluster up &}) starts
 * background commands with SIGINT ignored, and a JVM cannot take an ignored SIGINT back: Ctrl-C and {@code kill -INT}
 * then do nothing, and only SIGTERM stops {@code cluster up}. Saying so at start saves an operator a hunt.
 */
final class SignalDisposition {

    private static final long SIGINT_BIT = 1L << (2 - 1);

    private SignalDisposition() {}

    /** True only where the kernel says so ({@code /proc/self/status} on Linux); false where it cannot be known. */
    static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & SIGINT_BIT) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
