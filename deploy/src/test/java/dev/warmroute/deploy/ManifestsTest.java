package dev.warmroute.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The deployment files agree with each other and with the code, as far as that can be checked without a cluster:
 * names, selectors, ports, probes, discovery settings, grace periods, and every WARMROUTE_* variable naming a real
 * flag (the CLI ignores unknown variables, so a typo would silently fall back to a default). Schemas are checked by
 * deploy/k8s/check-schemas.sh (needs npm); compose by running it (deploy/README.md).
 */
class ManifestsTest {

    static final Path ROOT = Path.of(System.getProperty("warmroute.project.dir", "..")).toAbsolutePath().normalize();
    static final Path K8S = ROOT.resolve("deploy/k8s");
    /** Hazelcast's graceful shutdown waits at most this long for partitions to migrate (HazelcastFactory). */
    static final int HAZELCAST_GRACEFUL_SECONDS = 30;

    // ---- Kubernetes ----------------------------------------------------------------------------------------------

    @Test
    void workerStatefulSetFindsItsPeersThroughTheHeadlessService() throws IOException {
        Map<String, Object> sts = k8s("StatefulSet", "warmroute-worker");
        Map<String, Object> svc = k8s("Service", str(sts, "spec.serviceName"));
        assertEquals("None", str(svc, "spec.clusterIP"), "the workers' service is headless");
        assertEquals(Boolean.TRUE, get(svc, "spec.publishNotReadyAddresses"),
                "members join before they are ready: DNS must list not-ready pods");
        Map<String, Object> podLabels = map(sts, "spec.template.metadata.labels");
        assertSubset(map(sts, "spec.selector.matchLabels"), podLabels, "StatefulSet selector");
        assertSubset(map(svc, "spec.selector"), podLabels, "headless service selector");
        assertEquals("OrderedReady", str(sts, "spec.podManagementPolicy"));

        Map<String, String> env = env(k8s("StatefulSet", "warmroute-worker"), "worker");
        assertEquals("kubernetes", env.get("WARMROUTE_WORKER_DISCOVERY"));
        String dns = str(svc, "metadata.name") + ".$(POD_NAMESPACE).svc.cluster.local";
        assertEquals(dns, env.get("WARMROUTE_WORKER_KUBERNETES_SERVICE_DNS"));
        assertEquals("0.0.0.0", env.get("WARMROUTE_WORKER_HAZELCAST_HOST"), "Hazelcast advertises the pod IP");
        assertEquals("$(POD_NAME)", env.get("WARMROUTE_WORKER_WORKER_ID"), "stable worker ids");
        assertEquals("$(POD_IP):" + env.get("WARMROUTE_WORKER_PORT"), env.get("WARMROUTE_WORKER_ADVERTISE_ADDRESS"));
        int hazelcast = Integer.parseInt(env.get("WARMROUTE_WORKER_HAZELCAST_PORT"));
        assertEquals(hazelcast, containerPort(sts, "worker", "hazelcast"));
        assertEquals(hazelcast, servicePort(svc, "hazelcast"));

        Map<String, String> router = env(k8s("Deployment", "warmroute-router"), "router");
        assertEquals("kubernetes", router.get("WARMROUTE_ROUTER_DISCOVERY"));
        assertEquals(dns, router.get("WARMROUTE_ROUTER_KUBERNETES_SERVICE_DNS"), "routers look where workers are");
        assertEquals(5701, hazelcast, "routers find members on the service port, 5701 unless"
                + " WARMROUTE_ROUTER_KUBERNETES_SERVICE_PORT says otherwise");
    }

    @Test
    void variablesReferToVariablesDefinedBeforeThem() throws IOException {
        for (Map<String, Object> workload : List.of(k8s("StatefulSet", "warmroute-worker"),
                k8s("Deployment", "warmroute-router"))) {
            Set<String> defined = new TreeSet<>();
            for (Map<String, Object> e : list(container(workload, null), "env")) {
                Object value = e.get("value");
                if (value != null) {
                    Matcher m = Pattern.compile("\\$\\(([A-Z_]+)\\)").matcher(value.toString());
                    while (m.find()) {
                        assertTrue(defined.contains(m.group(1)), e.get("name") + " uses $(" + m.group(1)
                                + ") before it is defined (Kubernetes leaves it unexpanded)");
                    }
                }
                defined.add((String) e.get("name"));
            }
        }
    }

    @Test
    void probesAndServicesPointAtTheServingPorts() throws IOException {
        check("StatefulSet", "warmroute-worker", "worker", "warmroute-workers", "WARMROUTE_WORKER_PORT");
        check("Deployment", "warmroute-router", "router", "warmroute-router", "WARMROUTE_ROUTER_PORT");
    }

    private void check(String kind, String name, String container, String service, String portVariable)
            throws IOException {
        Map<String, Object> workload = k8s(kind, name);
        int grpc = Integer.parseInt(env(workload, container).get(portVariable));
        assertEquals(grpc, containerPort(workload, container, "grpc"), name + ": container port grpc");
        Map<String, Object> c = container(workload, container);
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            if (c.containsKey(probe)) {
                assertEquals(grpc, ((Number) get(c, probe + ".grpc.port")).intValue(),
                        name + " " + probe + " uses the native gRPC probe on the gRPC port");
            }
        }
        assertNotNull(c.get("readinessProbe"), name + ": readiness probe");
        Map<String, Object> svc = k8s("Service", service);
        assertSubset(map(svc, "spec.selector"), map(workload, "spec.template.metadata.labels"), service);
        Set<String> named = new TreeSet<>();
        list(c, "ports").forEach(p -> named.add((String) p.get("name")));
        for (Map<String, Object> p : list(svc, "spec.ports")) {
            assertTrue(named.contains(String.valueOf(p.get("targetPort"))), service + " targets port "
                    + p.get("targetPort") + ", which " + name + " does not name (" + named + ")");
        }
        String metrics = env(workload, container).get(portVariable.replace("_PORT", "_METRICS_PORT"));
        assertEquals(Integer.parseInt(metrics), containerPort(workload, container, "metrics"));
        assertEquals(metrics, str(workload, "spec.template.metadata.annotations.prometheus\\.io/port"));
        Map<String, Object> resources = map(c, "resources");
        assertNotNull(get(resources, "requests.cpu"), name + ": cpu request");
        assertNotNull(get(resources, "limits.memory"), name + ": memory limit");
    }

    @Test
    void disruptionsTakeOneWorkerAtATimeAndShutdownHasTime() throws IOException {
        Map<String, Object> pdb = k8s("PodDisruptionBudget", "warmroute-worker");
        assertEquals(1, get(pdb, "spec.maxUnavailable"), "one failure at a time");
        Map<String, Object> sts = k8s("StatefulSet", "warmroute-worker");
        assertSubset(map(pdb, "spec.selector.matchLabels"), map(sts, "spec.template.metadata.labels"), "worker PDB");

        Map<String, Object> config = k8s("ConfigMap", "warmroute-config");
        int workerGrace = Integer.parseInt(str(config, "data.WARMROUTE_WORKER_SHUTDOWN_GRACE_SECONDS"));
        int workerPeriod = ((Number) get(sts, "spec.template.spec.terminationGracePeriodSeconds")).intValue();
        assertTrue(workerPeriod >= workerGrace + HAZELCAST_GRACEFUL_SECONDS, "worker terminationGracePeriodSeconds "
                + workerPeriod + " < turns' grace " + workerGrace + " + Hazelcast migration "
                + HAZELCAST_GRACEFUL_SECONDS);
        Map<String, Object> router = k8s("Deployment", "warmroute-router");
        int routerGrace = Integer.parseInt(str(config, "data.WARMROUTE_ROUTER_SHUTDOWN_GRACE_SECONDS"));
        assertTrue(((Number) get(router, "spec.template.spec.terminationGracePeriodSeconds")).intValue()
                > routerGrace, "router terminationGracePeriodSeconds covers its shutdown grace");
        Map<String, Object> routerPdb = k8s("PodDisruptionBudget", "warmroute-router");
        assertSubset(map(routerPdb, "spec.selector.matchLabels"), map(router, "spec.template.metadata.labels"),
                "router PDB");
    }

    @Test
    void theModelComesFromAReadOnlyVolumeTheWorkerMounts() throws IOException {
        Map<String, Object> sts = k8s("StatefulSet", "warmroute-worker");
        Map<String, Object> c = container(sts, "worker");
        Map<String, Object> config = k8s("ConfigMap", "warmroute-config");
        String model = str(config, "data.WARMROUTE_WORKER_MODEL");
        Map<String, Object> mount = list(c, "volumeMounts").stream()
                .filter(m -> model.startsWith(m.get("mountPath") + "/")).findFirst()
                .orElseThrow(() -> new AssertionError("no volume mounted where the model is: " + model));
        assertEquals(Boolean.TRUE, mount.get("readOnly"));
        Map<String, Object> volume = list(sts, "spec.template.spec.volumes").stream()
                .filter(v -> v.get("name").equals(mount.get("name"))).findFirst().orElseThrow();
        String claim = str(volume, "persistentVolumeClaim.claimName");
        assertNotNull(k8s("PersistentVolumeClaim", claim));
        for (Map<String, Object> workload : List.of(sts, k8s("Deployment", "warmroute-router"))) {
            Set<String> volumes = new TreeSet<>();
            list(workload, "spec.template.spec.volumes").forEach(v -> volumes.add((String) v.get("name")));
            for (Map<String, Object> m : list(container(workload, null), "volumeMounts")) {
                assertTrue(volumes.contains((String) m.get("name")), "mount of undefined volume " + m.get("name"));
            }
            for (Map<String, Object> from : list(container(workload, null), "envFrom")) {
                assertNotNull(k8s("ConfigMap", str(from, "configMapRef.name")));
            }
        }
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        Map<String, Object> kustomization = new Yaml().load(Files.readString(K8S.resolve("kustomization.yaml")));
        Set<String> listed = new TreeSet<>();
        ((List<?>) kustomization.get("resources")).forEach(r -> listed.add(r.toString()));
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(K8S)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
                    .filter(n -> !n.equals("kustomization.yaml")).forEach(files::add);
        }
        assertEquals(files, listed);
    }

    // ---- docker-compose ------------------------------------------------------------------------------------------

    @Test
    void composeWorkersJoinByServiceNameAndAdvertiseThemselves() throws IOException {
        Map<String, Object> services = map(compose(), "services");
        List<String> workers = services.keySet().stream().filter(s -> s.startsWith("worker")).sorted().toList();
        assertEquals(3, workers.size(), "three workers");
        List<String> seeds = new ArrayList<>();
        for (String w : workers) {
            seeds.add(w + ":" + composeEnv(services, w).get("WARMROUTE_WORKER_HAZELCAST_PORT"));
        }
        for (String w : workers) {
            Map<String, String> env = composeEnv(services, w);
            Map<String, Object> service = map(services, w);
            assertEquals(List.of("worker"), service.get("command"));
            assertEquals(w, env.get("WARMROUTE_WORKER_WORKER_ID"));
            assertEquals(w + ":" + env.get("WARMROUTE_WORKER_PORT"), env.get("WARMROUTE_WORKER_ADVERTISE_ADDRESS"));
            assertEquals(String.join(",", seeds), env.get("WARMROUTE_WORKER_MEMBERS"), w + " seeds");
            assertEquals("0.0.0.0", env.get("WARMROUTE_WORKER_HAZELCAST_HOST"));
            assertHealthcheck(service, env.get("WARMROUTE_WORKER_PORT"));
            assertTrue(seconds(str(service, "stop_grace_period"))
                    >= Integer.parseInt(env.get("WARMROUTE_WORKER_SHUTDOWN_GRACE_SECONDS"))
                    + HAZELCAST_GRACEFUL_SECONDS, w + ": stop_grace_period covers turns + migration");
            assertNotNull(service.get("restart"), w + ": restart policy");
            String model = env.get("WARMROUTE_WORKER_MODEL");
            boolean mounted = ((List<?>) service.get("volumes")).stream().map(Object::toString)
                    .map(v -> v.replaceAll(":ro$", "")).map(v -> v.substring(v.lastIndexOf(':') + 1))
                    .anyMatch(target -> model.startsWith(target + "/"));
            assertTrue(mounted, w + ": the model " + model + " is on a mounted volume");
        }
        Map<String, String> router = composeEnv(services, "router");
        assertEquals(String.join(",", seeds), router.get("WARMROUTE_ROUTER_MEMBERS"));
        assertEquals(composeEnv(services, workers.get(0)).get("WARMROUTE_WORKER_CLUSTER_NAME"),
                router.get("WARMROUTE_ROUTER_CLUSTER_NAME"));
        assertHealthcheck(map(services, "router"), router.get("WARMROUTE_ROUTER_PORT"));
        assertTrue(((List<?>) map(services, "router").get("ports")).toString()
                .contains(":" + router.get("WARMROUTE_ROUTER_PORT")), "router port published");
    }

    private static void assertHealthcheck(Map<String, Object> service, String port) {
        String test = String.join(" ", strings(get(service, "healthcheck.test")));
        assertTrue(test.contains("warmroute health --target 127.0.0.1:" + port), test);
    }

    // ---- flags -----------------------------------------------------------------------------------------------------

    @Test
    void everyWarmrouteVariableNamesARealFlag() throws IOException {
        Set<String> known = new TreeSet<>(List.of("WARMROUTE_JAVA_OPTS"));
        CommandLine cli = new CommandLine(new Main());
        for (var sub : cli.getSubcommands().entrySet()) {
            for (OptionSpec o : sub.getValue().getCommandSpec().options()) {
                known.add(("WARMROUTE_" + sub.getKey() + "_" + o.longestName().replaceFirst("^-+", ""))
                        .replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT));
            }
        }
        Set<String> used = new TreeSet<>();
        for (Map<String, Object> doc : k8sDocs()) {
            if ("ConfigMap".equals(doc.get("kind"))) {
                used.addAll(map(doc, "data").keySet());
            }
            Object spec = get(doc, "spec.template.spec.containers");
            if (spec instanceof List<?> containers) {
                for (Object c : containers) {
                    list(cast(c), "env").forEach(e -> used.add((String) e.get("name")));
                }
            }
        }
        Map<String, Object> services = map(compose(), "services");
        for (String s : services.keySet()) {
            used.addAll(composeEnv(services, s).keySet());
        }
        used.removeIf(v -> !v.startsWith("WARMROUTE_"));
        assertTrue(used.size() > 20, "found the variables: " + used);
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(known);
        assertTrue(unknown.isEmpty(), "variables that name no flag (typo? renamed flag?): " + unknown);
    }

    @Test
    void imageLauncherUsesTheJvmFlagsOfBinWarmroute() throws IOException {
        String bin = Files.readString(ROOT.resolve("bin/warmroute"));
        Matcher block = Pattern.compile("JVM_FLAGS=\\((.*?)\\n\\)", Pattern.DOTALL).matcher(bin);
        assertTrue(block.find(), "JVM_FLAGS=( ... ) in bin/warmroute");
        List<String> expected = tokens(block.group(1));
        String image = Files.readString(ROOT.resolve("deploy/image/usr/local/bin/warmroute"));
        Matcher exec = Pattern.compile("exec java \\\\\\n(.*?)\\$\\{WARMROUTE_JAVA_OPTS", Pattern.DOTALL)
                .matcher(image);
        assertTrue(exec.find(), "exec java ... in the image's launcher");
        List<String> actual = tokens(exec.group(1));
        expected.replaceAll(t -> t.startsWith("-Dwarmroute.home=") ? "-Dwarmroute.home=" : t);
        actual.replaceAll(t -> t.startsWith("-Dwarmroute.home=") ? "-Dwarmroute.home=" : t);
        assertEquals(expected, actual);
        assertTrue(image.contains("-cp @/app/jib-classpath-file dev.warmroute.cli.Main \"$@\""), image);
    }

    private static List<String> tokens(String shell) {
        List<String> out = new ArrayList<>();
        for (String line : shell.split("\n")) {
            String l = line.replaceAll("#.*", "").replace("\\", " ").strip();
            for (String t : l.split("\\s+")) {
                if (!t.isEmpty()) {
                    out.add(t.replace("\"", ""));
                }
            }
        }
        return out;
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    static List<Map<String, Object>> k8sDocs() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Stream<Path> s = Files.list(K8S)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (Object doc : new Yaml().loadAll(Files.readString(p))) {
                    if (doc != null && !p.getFileName().toString().equals("kustomization.yaml")) {
                        Map<String, Object> d = cast(doc);
                        assertNotNull(d.get("apiVersion"), p + ": apiVersion");
                        assertNotNull(get(d, "metadata.name"), p + ": metadata.name");
                        docs.add(d);
                    }
                }
            }
        }
        return docs;
    }

    static Map<String, Object> k8s(String kind, String name) throws IOException {
        return k8sDocs().stream().filter(d -> kind.equals(d.get("kind")) && name.equals(get(d, "metadata.name")))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/k8s"));
    }

    static Map<String, Object> compose() throws IOException {
        return new Yaml().load(Files.readString(ROOT.resolve("deploy/docker-compose.yml")));
    }

    /** A compose service's environment, merge keys resolved. */
    static Map<String, String> composeEnv(Map<String, Object> services, String service) {
        Map<String, String> env = new LinkedHashMap<>();
        Object e = map(services, service).get("environment");
        if (e instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(k.toString(), String.valueOf(v)));
        }
        return env;
    }

    static Map<String, String> env(Map<String, Object> workload, String container) {
        Map<String, String> env = new LinkedHashMap<>();
        list(container(workload, container), "env").forEach(e -> env.put((String) e.get("name"),
                e.get("value") == null ? null : e.get("value").toString()));
        return env;
    }

    static Map<String, Object> container(Map<String, Object> workload, String name) {
        List<Map<String, Object>> containers = list(workload, "spec.template.spec.containers");
        if (name == null) {
            assertEquals(1, containers.size());
            return containers.get(0);
        }
        return containers.stream().filter(c -> name.equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static int containerPort(Map<String, Object> workload, String container, String portName) {
        return list(container(workload, container), "ports").stream().filter(p -> portName.equals(p.get("name")))
                .map(p -> ((Number) p.get("containerPort")).intValue()).findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + portName));
    }

    static int servicePort(Map<String, Object> svc, String portName) {
        return list(svc, "spec.ports").stream().filter(p -> portName.equals(p.get("name")))
                .map(p -> ((Number) p.get("port")).intValue()).findFirst()
                .orElseThrow(() -> new AssertionError("no service port named " + portName));
    }

    static void assertSubset(Map<String, Object> selector, Map<String, Object> labels, String what) {
        assertFalse(selector.isEmpty(), what + " is empty");
        selector.forEach((k, v) -> assertEquals(v, labels.get(k), what + " " + k + " does not match the pods"));
    }

    static int seconds(String duration) {
        Matcher m = Pattern.compile("(\\d+)s").matcher(duration);
        assertTrue(m.matches(), "duration like 60s: " + duration);
        return Integer.parseInt(m.group(1));
    }

    /** Dotted path into nested maps; {@code \\.} escapes a dot inside a key. */
    static Object get(Map<String, Object> root, String path) {
        Object cur = root;
        for (String key : path.split("(?<!\\\\)\\.")) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(key.replace("\\.", "."));
        }
        return cur;
    }

    static String str(Map<String, Object> root, String path) {
        Object v = get(root, path);
        assertNotNull(v, path);
        return v.toString();
    }

    static Map<String, Object> map(Map<String, Object> root, String path) {
        Object v = get(root, path);
        assertTrue(v instanceof Map, path + " is not a mapping: " + v);
        return cast(v);
    }

    static List<Map<String, Object>> list(Map<String, Object> root, String path) {
        Object v = get(root, path);
        if (v == null) {
            return List.of();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add(cast(o));
        }
        return out;
    }

    static List<String> strings(Object v) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add(o.toString());
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }
}
