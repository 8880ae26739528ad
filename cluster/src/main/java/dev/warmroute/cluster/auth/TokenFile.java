package dev.warmroute.cluster.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens from a file of their SHA-256 hashes, one per line: {@code sha256:HEX PRINCIPAL [admin]}, {@code #}
 * comments. The file never holds a token, so reading it (a backup, a config map) gives no one access.
 *
 * <p>Why SHA-256 and not bcrypt or Argon2: the tokens are 256 random bits ({@link #newToken}), not passwords. A slow
 * hash protects guessable secrets against offline guessing; a 256-bit random secret cannot be guessed, and a fast
 * hash lets every call be checked in microseconds. (GitHub and others store API tokens the same way.)
 *
 * <p>Rotation without a restart: the file is checked for a change at most once a second, on the next call. A file
 * that no longer parses keeps the tokens of the last good one, with an ERROR line, so a typo does not lock everyone
 * out; a missing file at start is an error.
 */
public final class TokenFile implements Authenticator {

    private static final Logger log = LoggerFactory.getLogger(TokenFile.class);
    private static final Pattern LINE = Pattern.compile("sha256:([0-9a-f]{64})\\s+(\\S+)(?:\\s+(admin))?");
    private static final long CHECK_EVERY_NANOS = 1_000_000_000L;
    /** The most characters of a presented token looked at: longer ones are refused before hashing. */
    public static final int MAX_TOKEN_CHARS = 4096;

    private final Path file;
    private final long checkEveryNanos;
    private volatile Map<String, Principal> byHash;
    private volatile FileTime loadedTime;
    private volatile long loadedSize;
    private volatile long lastCheck;

    private TokenFile(Path file, Map<String, Principal> byHash, FileTime time, long size, long checkEveryNanos) {
        this.file = file;
        this.checkEveryNanos = checkEveryNanos;
        this.byHash = byHash;
        this.loadedTime = time;
        this.loadedSize = size;
        this.lastCheck = System.nanoTime();
    }

    /** Reads {@code file}; a missing or malformed file is an IllegalArgumentException naming the line. */
    public static TokenFile load(Path file) {
        return load(file, CHECK_EVERY_NANOS);
    }

    /** {@link #load(Path)} looking at the file again at most every {@code checkEveryNanos} (0 in tests: each call). */
    static TokenFile load(Path file, long checkEveryNanos) {
        try {
            FileTime t = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            return new TokenFile(file, parse(file, Files.readAllLines(file, StandardCharsets.UTF_8)), t, size,
                    checkEveryNanos);
        } catch (IOException e) {
            throw new IllegalArgumentException("--auth-tokens: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Principal> parse(Path file, List<String> lines) {
        Map<String, Principal> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            var m = LINE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected 'sha256:<64 hex digits>"
                        + " PRINCIPAL [admin]' (warmroute auth token writes such lines)");
            }
            Principal p;
            try {
                p = new Principal(m.group(2), m.group(3) != null);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
            if (out.put(m.group(1), p) != null) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": the same token hash twice");
            }
        }
        return Map.copyOf(out);
    }

    @Override
    public Principal authenticate(String token) {
        if (token.length() > MAX_TOKEN_CHARS) {
            throw Authenticator.refused("the token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        maybeReload();
        Principal p = byHash.get(hash(token));
        if (p == null) {
            throw Authenticator.refused("unknown token (not in the server's token file; was it revoked?)");
        }
        return p;
    }

    @Override
    public String describe() {
        return "token file " + file + " (" + byHash.size() + " tokens)";
    }

    private void maybeReload() {
        long now = System.nanoTime();
        if (now - lastCheck < checkEveryNanos) {
            return;
        }
        synchronized (this) {
            if (now - lastCheck < checkEveryNanos) {
                return;
            }
            lastCheck = now;
            try {
                FileTime t = Files.getLastModifiedTime(file);
                long size = Files.size(file);
                if (t.equals(loadedTime) && size == loadedSize) {
                    return;
                }
                Map<String, Principal> fresh = parse(file, Files.readAllLines(file, StandardCharsets.UTF_8));
                byHash = fresh;
                loadedTime = t;
                loadedSize = size;
                log.info("auth.tokens-reloaded file={} tokens={}", file, fresh.size());
            } catch (IOException | IllegalArgumentException e) {
                log.error("auth.tokens-reload-failed file={} keeping={} tokens: {}", file, byHash.size(),
                        e.getMessage());
            }
        }
    }

    /** {@code sha256:HEX} of a token, as the file holds it. */
    public static String hashLine(String token, String principal, boolean admin) {
        new Principal(principal, admin);
        return "sha256:" + hash(token) + " " + principal + (admin ? " admin" : "");
    }

    /** A new random token: 32 bytes from SecureRandom, base64url, with a prefix that says what it is. */
    public static String newToken() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return "wr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
