package dev.metaflow.kestra.server.api;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** One HTTP request as a handler sees it: path variables, query parameters, headers and body. */
public final class Request {
    private final HttpExchange exchange;
    private final Map<String, String> pathVariables;
    private final Map<String, List<String>> query;
    private final long maxBodyBytes;
    private byte[] body;

    Request(HttpExchange exchange, Map<String, String> pathVariables, long maxBodyBytes) {
        this.exchange = exchange;
        this.pathVariables = pathVariables;
        this.maxBodyBytes = maxBodyBytes;
        this.query = parseQuery(exchange.getRequestURI().getRawQuery());
    }

    public String method() {
        return exchange.getRequestMethod();
    }

    /** The path and query as the client sent them. */
    public String rawUri() {
        return exchange.getRequestURI().toString();
    }

    public String path(String name) {
        return pathVariables.get(name);
    }

    public String tenant() {
        return pathVariables.get("tenant");
    }

    public Optional<String> query(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    public List<String> queryAll(String name) {
        return query.getOrDefault(name, List.of());
    }

    /** Parameters whose name starts with {@code prefix}, e.g. {@code filters[}. */
    public Map<String, List<String>> queryStartingWith(String prefix) {
        Map<String, List<String>> found = new LinkedHashMap<>();
        query.forEach((name, values) -> {
            if (name.startsWith(prefix)) {
                found.put(name, values);
            }
        });
        return found;
    }

    public int intQuery(String name, int fallback) {
        try {
            return query(name).map(Integer::parseInt).orElse(fallback);
        } catch (NumberFormatException e) {
            throw new ApiException(400, "Invalid value for query parameter '" + name + "': not a number");
        }
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(exchange.getRequestHeaders().getFirst(name));
    }

    /**
     * The body, read only when a handler asks for it (after the credential check, and for a
     * webhook after its key matched), and never more than the server's limit
     * ({@code local-server.max-request-bytes}): a larger body is a 413, refused from its
     * Content-Length before any of it is read, or as soon as the limit is passed.
     */
    public byte[] body() throws IOException {
        if (body == null) {
            String declared = exchange.getRequestHeaders().getFirst("Content-Length");
            if (declared != null && parseLength(declared) > maxBodyBytes) {
                throw tooLarge(declared + " bytes");
            }
            byte[] read = exchange.getRequestBody().readNBytes((int) Math.min(maxBodyBytes + 1, Integer.MAX_VALUE - 8));
            if (read.length > maxBodyBytes) {
                throw tooLarge("more than " + maxBodyBytes + " bytes");
            }
            body = read;
        }
        return body;
    }

    private ApiException tooLarge(String size) {
        return new ApiException(413, "Request body too large: " + size + ", over this server's limit of "
            + maxBodyBytes + " bytes (metaflow-kestra server start --max-request-mb)");
    }

    private static long parseLength(String declared) {
        try {
            return Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            throw new ApiException(400, "Invalid Content-Length '" + declared + "'");
        }
    }

    public String bodyText() throws IOException {
        return new String(body(), StandardCharsets.UTF_8);
    }

    /** The parts of a multipart/form-data body; an empty list for any other body. */
    public List<Multipart.Part> parts() throws IOException {
        String type = header("Content-Type").orElse("");
        if (!type.toLowerCase().startsWith("multipart/form-data")) {
            return List.of();
        }
        return Multipart.parse(type, body());
    }

    private static Map<String, List<String>> parseQuery(String raw) {
        Map<String, List<String>> parsed = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return parsed;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = decode(equals < 0 ? pair : pair.substring(0, equals));
            String value = equals < 0 ? "" : decode(pair.substring(equals + 1));
            parsed.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
        }
        return parsed;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }
}
