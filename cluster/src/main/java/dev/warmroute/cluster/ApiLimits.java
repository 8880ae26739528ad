package dev.warmroute.cluster;

import java.util.regex.Pattern;

/**
 * The input limits chat.proto documents, for every server that checks requests (workers and routers), so that a
 * request refused by one is refused by the other with the same words.
 */
public final class ApiLimits {

    private ApiLimits() {}

    /** session_id and request_id. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    public static final String ID_RULE = "1 to 128 characters of [A-Za-z0-9._:-]";
    /** The x-warmroute-owner metadata value. */
    public static final Pattern OWNER = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
    public static final String OWNER_RULE = "1 to 128 characters of [A-Za-z0-9._:@-]";

    public static final int MAX_CONTENT_BYTES = 32768;
    public static final int MIN_MAX_TOKENS = 1;
    public static final int MAX_MAX_TOKENS = 4096;
    public static final float MAX_TEMPERATURE = 2.0f;
    /** SessionSettings.context_budget_tokens: 0 (the model's context) or at least this. */
    public static final int MIN_CONTEXT_BUDGET = 64;
    /** SessionSettings.low_watermark_percent: 0 (the default) or within this range. */
    public static final int MIN_LOW_WATERMARK = 10;
    public static final int MAX_LOW_WATERMARK = 95;
    public static final int MAX_PAGE_SIZE = 500;

    // The server defaults chat.proto states for unset fields.
    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final int DEFAULT_MAX_TOKENS = 256;
    public static final int DEFAULT_LOW_WATERMARK = 75;
    public static final int DEFAULT_PAGE_SIZE = 50;
}
