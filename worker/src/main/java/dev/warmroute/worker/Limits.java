package dev.warmroute.worker;

import java.util.regex.Pattern;

/** The API's input limits (chat.proto), in one place so validation and messages agree. */
public final class Limits {

    private Limits() {}

    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    public static final String ID_RULE = "1 to 128 characters of [A-Za-z0-9._:-]";
    public static final Pattern OWNER = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
    public static final String OWNER_RULE = "1 to 128 characters of [A-Za-z0-9._:@-]";

    public static final int MAX_CONTENT_BYTES = 32768;
    public static final int MIN_MAX_TOKENS = 1;
    public static final int MAX_MAX_TOKENS = 4096;
    public static final float MAX_TEMPERATURE = 2.0f;
    public static final int MIN_CONTEXT_BUDGET = 64;
    public static final int MIN_LOW_WATERMARK = 10;
    public static final int MAX_LOW_WATERMARK = 95;
    public static final int MAX_PAGE_SIZE = 500;

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final int DEFAULT_MAX_TOKENS = 256;
    public static final int DEFAULT_LOW_WATERMARK = 75;
    public static final int DEFAULT_PAGE_SIZE = 50;
}
