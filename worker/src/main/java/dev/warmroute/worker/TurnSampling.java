package dev.warmroute.worker;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.cluster.session.StoredSettings;

/**
 * The sampling a turn runs with: the session's stored settings with the request's overrides applied.
 *
 * @param maxTokens answer length limit (also the room kept free for the answer in the prompt window)
 */
public record TurnSampling(float temperature, float topP, long seed, int maxTokens) {

    /** Applies the overrides of a (validated) request to the session's settings. */
    public static TurnSampling of(StoredSettings session, SamplingParams request) {
        return new TurnSampling(
                request.hasTemperature() ? request.getTemperature() : session.temperature(),
                request.hasTopP() ? request.getTopP() : session.topP(),
                request.hasSeed() ? request.getSeed() : session.seed(),
                request.hasMaxTokens() ? request.getMaxTokens() : session.maxTokens());
    }

    public SamplingParams toProto() {
        return SamplingParams.newBuilder().setTemperature(temperature).setTopP(topP).setSeed(seed)
                .setMaxTokens(maxTokens).build();
    }
}
