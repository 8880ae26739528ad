package dev.warmroute.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Benchmarks: programs that print a table (or JSON), never assertions. */
@Command(name = "bench", description = "Benchmarks that print a table or JSON.",
        subcommands = {BenchEngineCommand.class, BenchTtftCommand.class, BenchWindowCommand.class,
                BenchRouterCommand.class, BenchHttpCommand.class, BenchStoreCommand.class,
                dev.warmroute.cli.benchcluster.BenchClusterCommand.class,
                dev.warmroute.cli.benchoverload.BenchOverloadCommand.class})
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }
}
