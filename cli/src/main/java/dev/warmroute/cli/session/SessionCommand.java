package dev.warmroute.cli.session;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import dev.warmroute.cli.UserError;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.DiscoveryFlags;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.WorkerRegistry;
import dev.warmroute.cluster.session.CreateSession;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.worker.EngineModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code warmroute session export|import}: a session to a documented JSON file and back ({@link SessionFile}), the
 * seed's save()/load() for people. An operator's tool: it joins the cluster as a Hazelcast client (like a router), so it
 * reads and writes any owner's session; clients use GetSession.
 */
@Command(name = "session", description = "Export a session to a JSON file, or import one into a cluster.",
        subcommands = {SessionCommand.Export.class, SessionCommand.Import.class})
public final class SessionCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Where the cluster is. */
    static final class Cluster {
        @Option(names = "--members", defaultValue = "127.0.0.1:5701", paramLabel = "HOST:PORT,...",
                description = "Hazelcast members of the cluster (default ${DEFAULT-VALUE}: cluster up's w1).")
        String members;

        @Option(names = "--cluster-name", defaultValue = "warmroute", description = "Hazelcast cluster name (default ${DEFAULT-VALUE}).")
        String clusterName;

        HazelcastInstance connect() throws InterruptedException {
            HazelcastSettings s;
            try {
                s = HazelcastSettings.builder().clusterName(clusterName).members(DiscoveryFlags.seeds(members))
                        .mode(HazelcastSettings.Mode.CLIENT).build();
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            List<CompactSerializer<?>> serializers = new ArrayList<>(SessionSerializers.all());
            serializers.add(new WorkerRegistration.Serializer());
            HazelcastInstance hz = HazelcastFactory.startClient(s, "warmroute-session-" + UUID.randomUUID(),
                    serializers);
            if (!HazelcastFactory.awaitConnected(hz, Duration.ofSeconds(20))) {
                hz.shutdown();
                throw new UserError("cannot reach the cluster '" + clusterName + "' at " + members + " within 20 s", 1);
            }
            return hz;
        }
    }

    @Command(name = "export", description = "Write a session (settings, window start, every turn with its text and"
            + " token ids, tokenizer fingerprint) as JSON.")
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Parameters(index = "0", paramLabel = "ID", description = "The session id.")
        String id;

        @Option(names = "--out", paramLabel = "FILE", description = "Write here (default: standard output).")
        Path out;

        @Override
        public Integer call() throws Exception {
            HazelcastInstance hz = cluster.connect();
            try {
                IMap<String, SessionRecord> map = hz.getMap(ClusterMaps.SESSIONS);
                SessionRecord r = map.get(id);
                if (r == null) {
                    throw new UserError("session '" + id + "' does not exist in cluster '" + cluster.clusterName
                            + "'", 1);
                }
                String json = SessionFile.of(r).toJson();
                if (out == null) {
                    spec.commandLine().getOut().print(json);
                    spec.commandLine().getOut().flush();
                } else {
                    Files.writeString(out, json);
                    spec.commandLine().getErr().println("session '" + id + "': " + r.version() + " turns written to "
                            + out);
                }
                return 0;
            } finally {
                hz.shutdown();
            }
        }
    }

    @Command(name = "import", description = {"Load a session file into a cluster, as a new session (id from the file,"
            + " or --as).", "Refused when the cluster serves another model, or --model's tokenizer differs from the"
            + " file's, unless --retokenize (token ids made again from the texts with --model's tokenizer)."})
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Cluster cluster;

        @Parameters(index = "0", paramLabel = "FILE", description = "A file written by session export.")
        Path file;

        @Option(names = "--as", paramLabel = "ID", description = "Store it under this id instead of the file's.")
        String as;

        @Option(names = "--model", paramLabel = "FILE",
                description = "The cluster's model file: checks the file's tokenizer fingerprint against it.")
        Path model;

        @Option(names = "--retokenize",
                description = "Make every token list again from the texts with --model's tokenizer when they differ.")
        boolean retokenize;

        @Override
        public Integer call() throws Exception {
            SessionFile f;
            try {
                f = SessionFile.parse(Files.readString(file));
            } catch (IOException e) {
                throw new UserError("cannot read " + file + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new UserError(file + ": " + e.getMessage());
            }
            if (retokenize && model == null) {
                throw new UserError("--retokenize: needs --model (the tokenizer to use)");
            }
            if (model != null) {
                try (EngineModel m = EngineModel.load(model, 1)) {
                    if (!m.tokenizerFingerprint().equals(f.tokenizer_fingerprint())
                            || !m.id().equals(f.model_id())) {
                        if (!retokenize) {
                            throw new UserError("tokenizer: the file's token ids were made with tokenizer "
                                    + f.tokenizer_fingerprint() + " (model " + f.model_id() + "), " + model
                                    + " has tokenizer " + m.tokenizerFingerprint() + " (model " + m.id()
                                    + "); add --retokenize to make them again from the texts", 1);
                        }
                        f = f.retokenized(m.id(), m.tokenizerFingerprint(), m::encodeContent);
                    }
                } catch (IllegalArgumentException e) {
                    throw new UserError("--model: " + e.getMessage());
                }
            }
            String id = as != null ? as : f.session_id();
            HazelcastInstance hz = cluster.connect();
            try (WorkerRegistry registry = new WorkerRegistry(hz, Duration.ofSeconds(10))) {
                Set<String> models = new TreeSet<>();
                registry.list().forEach(w -> models.add(w.modelId()));
                if (models.isEmpty()) {
                    throw new UserError("cluster '" + cluster.clusterName + "' has no worker registered: cannot tell"
                            + " which model it serves", 1);
                }
                if (!models.contains(f.model_id())) {
                    throw new UserError("model: the file's session was made with model " + f.model_id()
                            + "; cluster '" + cluster.clusterName + "' serves " + models
                            + (retokenize ? "" : " (give that model with --model and --retokenize to convert it)"), 1);
                }
                SessionRecord record = f.toRecord(id, UUID.randomUUID().toString().substring(0, 8));
                CreateSession create = new CreateSession(record);
                IMap<String, SessionRecord> map = hz.getMap(ClusterMaps.SESSIONS);
                SessionRecord stored = map.executeOnKey(id, create);
                if (!create.isOwn(stored)) {
                    throw new UserError("session_id: '" + id + "' is taken in cluster '" + cluster.clusterName
                            + "'; import it under another id with --as", 1);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.println("imported session '" + id + "' (owner " + record.owner() + ", " + record.version()
                        + " turns, model " + record.modelId() + "); its next turn is version " + (record.version() + 1));
                out.flush();
                return 0;
            } finally {
                hz.shutdown();
            }
        }
    }
}
