package dev.warmroute.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the cli in this JVM as a user types it, keeping what it prints. The model tests use is TestModel's. */
public final class CliRun {

    /** Exit status and everything printed to stdout and stderr. */
    public record Result(int code, String out, String err) {}

    private CliRun() {}

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }
}
