package dev.warmroute.cluster;

/** A {@code host:port} address, parsed with an error that names the field. */
public record HostPort(String host, int port) {

    public HostPort {
        ConfigChecks.requireHost(host);
        ConfigChecks.requirePort(port, "port");
    }

    /** Parses {@code host:port}; the message of a failure starts with {@code field}. */
    public static HostPort parse(String text, String field) {
        if (text == null) {
            throw new IllegalArgumentException(field + ": expected host:port, got nothing");
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(field + ": expected host:port, got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + ": port of '" + text + "' is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(field + ": port of '" + text + "' must be in [1, 65535]");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new HostPort(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
