package dev.warmroute.cli.cluster;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code warmroute cluster}: a local cluster (up) and the operator commands, also available at the top level. */
@Command(name = "cluster", description = "Run a local cluster (router + workers on 127.0.0.1) and operate it.",
        subcommands = {ClusterUpCommand.class, StatusCommand.class, DrainCommand.class, UndrainCommand.class})
public final class ClusterCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
