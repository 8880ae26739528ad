package dev.warmroute.cluster.session;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * A session's settings as stored: every default already resolved by the worker that created the session, so that
 * every worker runs the session's turns with the same numbers (a later change of a server default does not change an
 * existing session).
 *
 * @param contextBudgetTokens tokens the prompt plus the answer may use (already resolved: never 0)
 * @param pruningPolicy       the API's {@code PruningPolicy} number (never UNSPECIFIED once stored)
 * @param lowWatermarkPercent for the watermark policy: after a cut the prompt uses at most this share of its budget
 * @param temperature         sampling temperature, [0, 2]
 * @param topP                nucleus mass, (0, 1]
 * @param seed                sampler seed (chosen by the server when the client gave none)
 * @param maxTokens           default answer length limit
 */
public record StoredSettings(
        int contextBudgetTokens,
        int pruningPolicy,
        int lowWatermarkPercent,
        float temperature,
        float topP,
        long seed,
        int maxTokens) {

    /** Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. */
    public static final class Serializer implements CompactSerializer<StoredSettings> {
        @Override
        public StoredSettings read(CompactReader in) {
            return new StoredSettings(in.readInt32("contextBudgetTokens"), in.readInt32("pruningPolicy"),
                    in.readInt32("lowWatermarkPercent"), in.readFloat32("temperature"), in.readFloat32("topP"),
                    in.readInt64("seed"), in.readInt32("maxTokens"));
        }

        @Override
        public void write(CompactWriter out, StoredSettings s) {
            out.writeInt32("contextBudgetTokens", s.contextBudgetTokens());
            out.writeInt32("pruningPolicy", s.pruningPolicy());
            out.writeInt32("lowWatermarkPercent", s.lowWatermarkPercent());
            out.writeFloat32("temperature", s.temperature());
            out.writeFloat32("topP", s.topP());
            out.writeInt64("seed", s.seed());
            out.writeInt32("maxTokens", s.maxTokens());
        }

        @Override
        public String getTypeName() {
            return "warmroute.StoredSettings";
        }

        @Override
        public Class<StoredSettings> getCompactClass() {
            return StoredSettings.class;
        }
    }
}
