package dev.metaflow.kestra.server.api;

import java.util.Locale;
import java.util.Set;

/**
 * The {@code Host} header check that stops DNS rebinding: the server listens on loopback only,
 * so a browser can reach it from another site only under that site's name, which it sends as
 * the Host. Any port is fine (a tunnel may forward another one).
 */
final class LoopbackHost {
    private static final Set<String> NAMES = Set.of("127.0.0.1", "localhost", "[::1]");

    private LoopbackHost() {
    }

    static boolean accepts(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        String name = host.trim().toLowerCase(Locale.ROOT);
        int colon = name.lastIndexOf(':');
        if (colon > name.lastIndexOf(']')) {
            String port = name.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(Character::isDigit)) {
                return false;
            }
            name = name.substring(0, colon);
        }
        return NAMES.contains(name);
    }
}
