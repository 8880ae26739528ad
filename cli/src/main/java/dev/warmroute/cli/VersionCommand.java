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

        private static String simdWidth() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return "unavailable (start the JVM with --add-modules jdk.incubator.vector)";
            }
            try {
                Class<?> floatVector = Class.forName("jdk.incubator.vector.FloatVector");
                Object preferred = floatVector.getField("SPECIES_PREFERRED").get(null);
                Class<?> species = Class.forName("jdk.incubator.vector.VectorSpecies");
                int bits = (int) species.getMethod("vectorBitSize").invoke(preferred);
                return bits + "-bit vectors (" + bits / 32 + " floats)";
            } catch (ReflectiveOperationException e) {
                return "unknown (" + e + ")";
            }
        }
    }
}
