package dev.warmroute.router;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: a key goes to the node with the highest {@link #weight}(key, node).
 *
 * <p>Why HRW and not a ring: with n nodes, adding one moves only the keys whose new top node is the newcomer (about
 * 1/(n+1) of them), removing one moves only its own keys, and every router computes the same answer from nothing but
 * the set of node ids — no virtual nodes to tune, no ring to share. The ranking also gives each key a stable order of
 * fallbacks, so a failed node's sessions spread over all survivors instead of piling onto its ring successor.
 *
 * <p>The weight must be identical in every JVM and every version of warmroute, so it is not {@code String.hashCode}:
 * it is FNV-1a over the UTF-8 bytes of key, a separator and node id, finished with MurmurHash3's 64-bit mixer (FNV
 * alone has weak high bits for short, similar strings such as {@code worker-1}, {@code worker-2}).
 */
public final class RendezvousHash {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private RendezvousHash() {}

    /** The weight of {@code node} for {@code key}; stable across JVMs and versions. */
    public static long weight(String key, String node) {
        return finish(fnv(prefix(key), node));
    }

    /** The node with the highest weight for {@code key}, or null when there are none. */
    public static String top(String key, Collection<String> nodes) {
        long prefix = prefix(key);
        String best = null;
        long bestWeight = 0;
        for (String node : nodes) {
            long w = finish(fnv(prefix, node));
            if (best == null || Long.compareUnsigned(w, bestWeight) > 0
                    || (w == bestWeight && node.compareTo(best) < 0)) {
                best = node;
                bestWeight = w;
            }
        }
        return best;
    }

    /** All nodes, best first: the key's preference order (ties, practically impossible, by node id). */
    public static List<String> rank(String key, Collection<String> nodes) {
        long prefix = prefix(key);
        record Weighted(String node, long weight) {}
        List<Weighted> weighted = new ArrayList<>(nodes.size());
        for (String node : nodes) {
            weighted.add(new Weighted(node, finish(fnv(prefix, node))));
        }
        weighted.sort((a, b) -> {
            int c = Long.compareUnsigned(b.weight, a.weight);
            return c != 0 ? c : a.node.compareTo(b.node);
        });
        List<String> out = new ArrayList<>(weighted.size());
        for (Weighted w : weighted) {
            out.add(w.node);
        }
        return out;
    }

    /** FNV-1a state after the key and a zero separator byte (which no id contains). */
    private static long prefix(String key) {
        long h = fnv(FNV_OFFSET, key);
        h ^= 0;
        return h * FNV_PRIME;
    }

    private static long fnv(long h, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            h ^= (b & 0xff);
            h *= FNV_PRIME;
        }
        return h;
    }

    /** MurmurHash3 fmix64: every input bit affects every output bit. */
    private static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
