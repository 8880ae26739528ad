package dev.warmroute.cli.cluster;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** Where commands that start processes put their logs, and how to name the launcher in hints. */
public final class RunDirs {

    private RunDirs() {}

    /** {@code runs/<prefix>-<yyyyMMdd-HHmmss>} under the installation (bin/warmroute sets warmroute.home) or here. */
    public static Path fresh(String prefix) {
        String home = System.getProperty("warmroute.home");
        Path base = home != null && !home.isBlank() ? Path.of(home, "runs") : Path.of("runs");
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return base.resolve(prefix + "-" + stamp).toAbsolutePath().normalize();
    }

    /**
     * {@code runs/data} under the installation (or here): the one data folder {@code cluster up} keeps its history in
     * by default, so every start finds the sessions of the last one.
     */
    public static Path data() {
        String home = System.getProperty("warmroute.home");
        Path base = home != null && !home.isBlank() ? Path.of(home, "runs") : Path.of("runs");
        return base.resolve("data").toAbsolutePath().normalize();
    }

    /** How to run warmroute from the current directory: {@code bin/warmroute} in the repository, else the path. */
    public static String launcher() {
        String home = System.getProperty("warmroute.home");
        if (home == null || home.isBlank()) {
            return "warmroute";
        }
        Path bin = Path.of(home, "bin", "warmroute").toAbsolutePath().normalize();
        Path cwd = Path.of("").toAbsolutePath();
        try {
            Path rel = cwd.relativize(bin);
            return rel.toString().length() < bin.toString().length() ? rel.toString() : bin.toString();
        } catch (IllegalArgumentException e) {
            return bin.toString();
        }
    }
}
