package dev.warmroute.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Prints what an operator needs in a bug report: our version, the JVM, the cores and the SIMD width. */
@Command(name = "version", description = "Print the version of warmroute, the JVM, cores and SIMD width.")
final class VersionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        for (String line : new Provider().getVersion()) {
            spec.commandLine().getOut().println(line);
        }
        return 0;
    }

    static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                    "warmroute " + (version == null ? "(development build)" : version),
                    "java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")",
                    "cores " + Runtime.getRuntime().availableProcessors(),
                    "simd " + simdWidth(),
            };
        }

        /** The width the engine's kernels run at here, how it was chosen, and the machine's. */
        private static String simdWidth() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return "unavailable (start the JVM with --add-modules jdk.incubator.vector)";
            }
            return dev.warmroute.engine.tensor.VectorWidth.describe();
        }
    }
}
