package dev.warmroute.cli;

import dev.warmroute.cluster.tls.DevCertificates;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warmroute cert ...}: certificates for TLS. */
@Command(name = "cert", description = "Certificates for TLS (--tls-* flags).", subcommands = CertCommand.Dev.class)
final class CertCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A local CA and certificates for a dev or test cluster: not for production (its CA exists only here). */
    @Command(name = "dev", mixinStandardHelpOptions = true, description = {
            "Make a local CA and certificates for a dev cluster (EC P-256, 30 days): ca.pem, server.pem,",
            "server-key.pem (routers and workers; names localhost, 127.0.0.1 and --host), client.pem,",
            "client-key.pem (mutual TLS). The CA's key is not kept."})
    static final class Dev implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the files to.")
        Path out;

        @Option(names = "--host", paramLabel = "NAME|IP", description = "More names or addresses of the servers.")
        List<String> hosts = List.of();

        @Option(names = "--force", description = "Overwrite files that exist.")
        boolean force;

        @Override
        public Integer call() throws IOException {
            if (!force && Files.exists(out.resolve("server-key.pem"))) {
                throw new UserError("--out " + out + " already holds certificates; --force to replace them");
            }
            DevCertificates.Written w = DevCertificates.write(out, hosts);
            PrintWriter o = spec.commandLine().getOut();
            o.println("wrote " + w.ca() + ", " + w.serverCert() + ", " + w.serverKey() + ", " + w.clientCert() + ", "
                    + w.clientKey());
            o.println("servers: --tls-cert " + w.serverCert() + " --tls-key " + w.serverKey() + " --tls-ca " + w.ca()
                    + " [--tls-client-auth require]");
            o.println("CLI: export WARMROUTE_TLS_CA=" + w.ca() + " (mutual TLS: WARMROUTE_TLS_CERT=" + w.clientCert()
                    + " WARMROUTE_TLS_KEY=" + w.clientKey() + ")");
            o.flush();
            return 0;
        }
    }
}
