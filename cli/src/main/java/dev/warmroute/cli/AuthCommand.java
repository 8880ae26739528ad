package dev.warmroute.cli;

import dev.warmroute.cluster.auth.TokenFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warmroute auth ...}: tokens for routers and workers started with {@code --auth-tokens}. */
@Command(name = "auth", description = "Bearer tokens for servers started with --auth-tokens.",
        subcommands = AuthCommand.Token.class)
final class AuthCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Makes a token, appends its hash to the token file (servers pick it up within a second) and prints the token:
     * the only time it is shown, since the file keeps only its SHA-256.
     */
    @Command(name = "token", mixinStandardHelpOptions = true, description = {
            "Issue a token: appends 'sha256:HASH PRINCIPAL [admin]' to --file (created with owner-only permissions)",
            "and prints the token once. Revoke it by deleting its line."})
    static final class Token implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--principal", required = true, description = "Who the token is (1 to 128 of [A-Za-z0-9._:@-]).")
        String principal;

        @Option(names = "--admin", description = "May call AdminService (status, drain, undrain).")
        boolean admin;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "The token file (--auth-tokens).")
        Path file;

        @Override
        public Integer call() throws IOException {
            String token = TokenFile.newToken();
            String line;
            try {
                line = TokenFile.hashLine(token, principal, admin);
            } catch (IllegalArgumentException e) {
                throw new UserError("--principal: " + e.getMessage());
            }
            if (Files.exists(file)) {
                try {
                    TokenFile.load(file); // refuse to append to a file the servers could not read
                } catch (IllegalArgumentException e) {
                    throw new UserError("--file: " + e.getMessage());
                }
            } else {
                Path parent = file.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(file, "# warmroute tokens: sha256 of each token, principal, admin\n",
                        StandardCharsets.UTF_8);
                try {
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not POSIX: the folder's permissions apply
                }
            }
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            PrintWriter out = spec.commandLine().getOut();
            out.println(token);
            out.flush();
            spec.commandLine().getErr().println("token for '" + principal + "'" + (admin ? " (admin)" : "")
                    + " added to " + file + "; it is shown only now (export WARMROUTE_TOKEN=...)");
            return 0;
        }
    }
}
