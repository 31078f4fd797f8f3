package dev.metaflow.kestra.server.api;

import java.nio.charset.StandardCharsets;

/** A status, a content type and a body; JSON bodies are serialized by {@link Json}. */
public record Response(int status, String contentType, byte[] body) {

    public static Response json(int status, Object value) {
        return new Response(status, "application/json", Json.bytes(value));
    }

    public static Response noContent() {
        return new Response(204, null, new byte[0]);
    }

    public static Response text(int status, String contentType, String text) {
        return new Response(status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Kestra's error body; {@code message} is the whole text, e.g. "Not Found: Flow not found". */
    public static Response error(int status, String message, String uri) {
        return json(status, Json.error(message, uri, status == 422));
    }
}
