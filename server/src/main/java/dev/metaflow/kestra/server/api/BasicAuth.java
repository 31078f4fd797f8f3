package dev.metaflow.kestra.server.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** Basic auth for the one development user, compared in constant time. */
final class BasicAuth {
    private final byte[] expected;

    BasicAuth(String username, String password) {
        this.expected = (username + ":" + password).getBytes(StandardCharsets.UTF_8);
    }

    boolean accepts(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        try {
            byte[] given = Base64.getDecoder().decode(header.substring(6).trim());
            return MessageDigest.isEqual(given, expected);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
