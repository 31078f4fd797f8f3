package dev.metaflow.kestra.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kestra.core.serializers.JacksonMapper;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as Kestra's web server writes it: Kestra's own mapper (non-null fields,
 * ISO dates and durations), and Micronaut's error body for failures.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JacksonMapper.ofJson();
    static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize " + value.getClass().getName(), e);
        }
    }

    /**
     * Micronaut's JSON error, as Kestra's ErrorController sends it:
     * {@code {"message": ..., "_links": {"self": {"href": uri}}}}, plus
     * {@code _embedded.errors} for invalid entities.
     */
    static Map<String, Object> error(String message, String uri, boolean embedded) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", message);
        body.put("_links", Map.of("self", Map.of("href", uri, "templated", false)));
        if (embedded) {
            body.put("_embedded", Map.of("errors", List.of(Map.of("message", message))));
        }
        return body;
    }
}
