package dev.warmroute.cluster.auth;

import dev.warmroute.cluster.ApiLimits;

/**
 * Who a valid credential says the caller is: the name that owns sessions (chat.proto's owner) and whether it may
 * call AdminService. Names follow the owner rule, so a principal can be forwarded from router to worker as the
 * {@code x-warmroute-owner} header unchanged.
 */
public record Principal(String name, boolean admin) {

    public Principal {
        if (name == null || !ApiLimits.OWNER.matcher(name).matches()) {
            throw new IllegalArgumentException("principal: must be " + ApiLimits.OWNER_RULE + ", got '" + name + "'");
        }
    }
}
