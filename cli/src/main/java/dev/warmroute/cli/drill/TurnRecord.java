package dev.warmroute.cli.drill;

/**
 * One turn as the drill's client saw it.
 *
 * @param sessionId   the session
 * @param turn        0-based turn number within the session, as the client counts them
 * @param requestId   the request id the client sent
 * @param userText    the message sent (unique per session and turn, so the history audit can find it)
 * @param startMs     when the client sent it, ms since the drill started
 * @param ttftMs      time to first token seen by the client, or -1 when no token arrived
 * @param totalMs     time until the stream ended
 * @param worker      worker that served it (from TurnComplete), empty on failure
 * @param cache       "warm", "partial", "cold", "replay", or "" on failure
 * @param fallback    true when the router served it from a worker other than the preferred one
 * @param resumed     true when the stream was continued on another worker mid-answer
 * @param answer      the answer text the client assembled from the deltas
 * @param error       empty when the turn succeeded, else "STATUS: message"
 */
public record TurnRecord(
        String sessionId,
        int turn,
        String requestId,
        String userText,
        double startMs,
        double ttftMs,
        double totalMs,
        String worker,
        String cache,
        boolean fallback,
        boolean resumed,
        String answer,
        String error) {

    public boolean ok() {
        return error.isEmpty();
    }

    public boolean warm() {
        return "warm".equals(cache);
    }
}
