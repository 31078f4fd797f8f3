package dev.metaflow.kestra.server.api;

import java.util.HashMap;
import java.util.Map;

/** A method and a path template such as {@code /api/v1/{tenant}/flows/{namespace}/{id}}. */
record Route(String method, String[] segments, Handler handler) {

    @FunctionalInterface
    public interface Handler {
        /** The answer: a {@link Response}, or any object to send as JSON with 200. */
        Object handle(Request request) throws Exception;
    }

    static Route of(String method, String template, Handler handler) {
        return new Route(method, template.substring(1).split("/"), handler);
    }

    /** The path variables if this route matches, else null. */
    Map<String, String> match(String method, String[] path) {
        if (!this.method.equals(method) || path.length != segments.length) {
            return null;
        }
        Map<String, String> variables = new HashMap<>();
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            if (segment.startsWith("{")) {
                variables.put(segment.substring(1, segment.length() - 1), path[i]);
            } else if (!segment.equals(path[i])) {
                return null;
            }
        }
        return variables;
    }

    /** Literal segments outrank variables, so {@code executions/search} beats {@code executions/{id}}. */
    int literalCount() {
        int count = 0;
        for (String segment : segments) {
            if (!segment.startsWith("{")) {
                count++;
            }
        }
        return count;
    }
}
