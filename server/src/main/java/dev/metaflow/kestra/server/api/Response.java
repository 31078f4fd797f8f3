package dev.metaflow.kestra.server.api;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A status, a content type and a body; JSON bodies are serialized by {@link Json}. A response
 * with {@code events} is a stream of server-sent events, written on a thread of its own; one
 * with a {@code source} sends that stream's bytes (a file, never held whole in the heap); one
 * with {@code headers} adds them (a download's Content-Disposition, a redirect's Location).
 */
public record Response(int status, String contentType, byte[] body, EventStream events, InputStream source,
                       Map<String, String> headers) {

    public Response(int status, String contentType, byte[] body) {
        this(status, contentType, body, null, null, Map.of());
    }

    /** The bytes of {@code source}, which the server closes once sent. */
    public static Response streamed(int status, String contentType, InputStream source) {
        return new Response(status, contentType, new byte[0], null, source, Map.of());
    }

    public static Response json(int status, Object value) {
        return new Response(status, "application/json", Json.bytes(value));
    }

    public static Response noContent() {
        return new Response(204, null, new byte[0]);
    }

    public static Response text(int status, String contentType, String text) {
        return new Response(status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Server-sent events, as Micronaut writes Kestra's {@code Flux<Event<...>>}. */
    public static Response events(EventStream events) {
        return new Response(200, "text/event-stream", new byte[0], events, null, Map.of("Cache-Control", "no-cache"));
    }

    public Response withHeaders(Map<String, String> more) {
        return new Response(status, contentType, body, events, source, more);
    }

    /** Kestra's error body; {@code message} is the whole text, e.g. "Not Found: Flow not found". */
    public static Response error(int status, String message, String uri) {
        return json(status, Json.error(message, uri, status == 422));
    }
}
