package dev.metaflow.kestra.server.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** A request path as routes see it: split on "/" first, then each segment percent-decoded. */
final class PathSegments {
    // Kestra's own ids (namespaces aside) are letters, digits, '_' and '-'; so is a tenant id.
    private static final Pattern TENANT = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}");

    private PathSegments() {
    }

    static String[] decode(String rawPath) {
        String[] segments = rawPath.substring(1).split("/");
        for (int i = 0; i < segments.length; i++) {
            segments[i] = percentDecode(segments[i]);
        }
        return segments;
    }

    static boolean isTenant(String tenant) {
        return TENANT.matcher(tenant).matches();
    }

    /** "%xx" escapes as UTF-8 bytes; "+" stays "+" in a path (unlike a query). */
    private static String percentDecode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        StringBuilder decoded = new StringBuilder();
        int i = 0;
        while (i < segment.length()) {
            if (segment.charAt(i) != '%') {
                decoded.append(segment.charAt(i++));
                continue;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            while (i < segment.length() && segment.charAt(i) == '%') {
                if (!isHex(segment, i + 1) || !isHex(segment, i + 2)) {
                    throw new ApiException(400, "Malformed escape in the path segment '" + segment + "'");
                }
                bytes.write(Integer.parseInt(segment.substring(i + 1, i + 3), 16));
                i += 3;
            }
            decoded.append(bytes.toString(StandardCharsets.UTF_8));
        }
        return decoded.toString();
    }

    private static boolean isHex(String text, int index) {
        return index < text.length() && Character.digit(text.charAt(index), 16) >= 0;
    }
}
