package dev.warmroute.cluster.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network split a drill can open and close: a Linux network namespace joined to this one by a veth pair, with a
 * private /24 of its own ({@code 10.213.N.0/24}: {@code .1} on this side, {@code .2} inside). The processes of the
 * cluster bind {@link #outsideHost()} or, those placed inside, {@link #insideHost()}; {@link #cut()} drops every
 * packet that crosses the pair (both ways, without closing anything: what a partition does, unlike a refused
 * connection) and {@link #heal()} lets them through again. Traffic stays on these addresses and the namespace's own
 * loopback: nothing leaves the machine.
 *
 * <p>Why a namespace and not firewall rules on 127.0.0.1: processes on one loopback address cannot be told apart by
 * address, only by port, and every outgoing connection has an ephemeral port; a namespace makes "inside" a place.
 * Needs root (CAP_NET_ADMIN) and {@code ip} and {@code iptables}; {@link #unavailableReason()} says what is missing.
 */
public final class NetworkSplit implements AutoCloseable {

    private static final String BASE = "10.213.";

    private final String namespace;
    private final String outsideLink;
    private final String insideLink;
    private final String outsideHost;
    private final String insideHost;
    private volatile boolean cut;
    private List<List<String>> active = List.of();
    private volatile boolean closed;

    private NetworkSplit(int n) {
        this.namespace = "wr-split-" + n;
        this.outsideLink = "wrs" + n + "o";
        this.insideLink = "wrs" + n + "i";
        this.outsideHost = BASE + n + ".1";
        this.insideHost = BASE + n + ".2";
    }

    /** Null when a split can be made here, else why not (for a drill's error or a test's skip message). */
    public static String unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return "network namespaces need Linux";
        }
        for (String tool : List.of("ip", "iptables")) {
            if (!onPath(tool)) {
                return "'" + tool + "' is not installed (Debian: apt-get install iproute2 iptables)";
            }
        }
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0 || !uid.equals("0")) {
                return "creating network namespaces needs root (CAP_NET_ADMIN); this process runs as uid " + uid;
            }
        } catch (IOException e) {
            return "cannot run id -u: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    /**
     * Creates the namespace and the pair, on the first free number from this process's pid on (so two drills on one
     * machine do not meet). The pair is up and not cut.
     */
    public static NetworkSplit create() throws IOException, InterruptedException {
        String why = unavailableReason();
        if (why != null) {
            throw new IOException("cannot make a network split: " + why);
        }
        int start = (int) (ProcessHandle.current().pid() % 200);
        IOException last = null;
        for (int i = 0; i < 200; i++) {
            int n = 20 + (start + i) % 200;
            if (Files.exists(Path.of("/run/netns", "wr-split-" + n))) {
                continue;
            }
            NetworkSplit s = new NetworkSplit(n);
            try {
                s.setUp();
                return s;
            } catch (IOException e) {
                last = e;
                s.close();
            }
        }
        throw new IOException("no free network split number", last);
    }

    private void setUp() throws IOException, InterruptedException {
        run("ip", "netns", "add", namespace);
        run("ip", "link", "add", outsideLink, "type", "veth", "peer", "name", insideLink);
        run("ip", "link", "set", insideLink, "netns", namespace);
        run("ip", "addr", "add", outsideHost + "/24", "dev", outsideLink);
        run("ip", "link", "set", outsideLink, "up");
        inside("ip", "addr", "add", insideHost + "/24", "dev", insideLink);
        inside("ip", "link", "set", insideLink, "up");
        inside("ip", "link", "set", "lo", "up");
    }

    /** The address the processes outside bind (an address of this machine, on the pair's outer end). */
    public String outsideHost() {
        return outsideHost;
    }

    /** The address the processes inside bind. */
    public String insideHost() {
        return insideHost;
    }

    /** The namespace's name ({@code ip netns exec NAME ...}). */
    public String namespace() {
        return namespace;
    }

    /** The command prefix that runs a program inside. */
    public List<String> insidePrefix() {
        return List.of("ip", "netns", "exec", namespace);
    }

    public boolean isCut() {
        return cut;
    }

    /**
     * Drops every packet between inside and outside, both ways, except TCP to and from {@code keptOpen} ports of the
     * inside address: a client outside (the drill itself) may still talk to a server inside, as clients on the
     * minority's side of a real split do, while that server reaches nothing outside. Idempotent.
     */
    public synchronized void cut(int... keptOpen) throws IOException, InterruptedException {
        if (cut) {
            return;
        }
        List<List<String>> rules = rules(keptOpen);
        // Each rule goes to the top of its chain: the drops first, so that the exceptions end up above them.
        for (List<String> rule : rules) {
            run(with("iptables", "-w", "-I", rule));
        }
        active = rules;
        cut = true;
    }

    /** Lets packets through again. Idempotent. */
    public synchronized void heal() throws IOException, InterruptedException {
        if (!cut) {
            return;
        }
        for (List<String> rule : active) {
            run(with("iptables", "-w", "-D", rule));
        }
        active = List.of();
        cut = false;
    }

    /** The rules of a cut, on this side of the pair: the drops (in from it, out to it), then the exceptions. */
    private List<List<String>> rules(int... keptOpen) {
        List<List<String>> rules = new ArrayList<>(List.of(List.of("INPUT", "-i", outsideLink, "-j", "DROP"),
                List.of("OUTPUT", "-o", outsideLink, "-j", "DROP")));
        for (int port : keptOpen) {
            String p = String.valueOf(port);
            rules.add(List.of("OUTPUT", "-o", outsideLink, "-d", insideHost, "-p", "tcp", "--dport", p, "-j",
                    "ACCEPT"));
            rules.add(List.of("INPUT", "-i", outsideLink, "-s", insideHost, "-p", "tcp", "--sport", p, "-j",
                    "ACCEPT"));
        }
        return rules;
    }

    private static List<String> with(String tool, String wait, String op, List<String> rule) {
        List<String> cmd = new ArrayList<>(List.of(tool, wait, op));
        cmd.addAll(rule);
        return cmd;
    }

    /** Heals, deletes the namespace (which deletes the pair). Safe to call twice and after a failed set-up. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            heal();
        } catch (IOException | InterruptedException e) {
            // the rules go with the link below
        }
        quietly("ip", "link", "del", outsideLink);
        quietly("ip", "netns", "del", namespace);
    }

    @Override
    public String toString() {
        return "network split " + namespace + " (outside " + outsideHost + ", inside " + insideHost
                + (cut ? ", cut)" : ")");
    }

    private void inside(String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(insidePrefix());
        full.addAll(List.of(cmd));
        run(full);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        run(List.of(cmd));
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no answer within 30 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
        }
    }

    private static void quietly(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // best effort: the namespace may be gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
