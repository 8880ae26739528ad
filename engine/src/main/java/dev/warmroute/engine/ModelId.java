package dev.warmroute.engine;

import dev.warmroute.engine.gguf.GgufFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A model's id, e.g. "stories260k-f32-1a2b3c4d": stable across processes for the same file, so that a cache or an
 * export made by one worker is recognised by another. Hashing the header and samples of the data (not all of it)
 * keeps loading a multi-GB file from reading it twice.
 */
final class ModelId {
    private ModelId() {}

    /** name-type-hash, the hash over the header (metadata, tensor table) and samples of the tensor data. */
    static String of(GgufFile g, ModelConfig c) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            MemorySegment seg = g.segment();
            sha.update(seg.asSlice(0, Math.min(g.dataOffset(), seg.byteSize())).toArray(ValueLayout.JAVA_BYTE));
            long dataLen = seg.byteSize() - g.dataOffset();
            long sample = Math.min(dataLen, 1 << 16);
            if (sample > 0) {
                sha.update(seg.asSlice(g.dataOffset(), sample).toArray(ValueLayout.JAVA_BYTE));
                sha.update(seg.asSlice(seg.byteSize() - sample, sample).toArray(ValueLayout.JAVA_BYTE));
            }
            sha.update(Long.toString(seg.byteSize()).getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(sha.digest(), 0, 4);
            String name = c.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "_");
            String suffix = "-" + c.weightType();
            if (name.endsWith(suffix)) {
                name = name.substring(0, name.length() - suffix.length());
            }
            return name + suffix + "-" + hash;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
