package dev.metaflow.kestra.server;

import io.kestra.core.utils.VersionProvider;

import java.util.List;
import java.util.Map;

/**
 * What this process adds to Kestra's configuration (the {@code local-server} section),
 * and what it reads of Kestra's own: the basic-auth {@code open-urls}.
 */
public record ServerOptions(String host, int port, int managementPort, String username, String password,
                            int workerThreads, String kestraVersion, List<String> openUrls,
                            long maxRequestBytes, String uiDir) {

    @SuppressWarnings("unchecked")
    public static ServerOptions from(Map<String, Object> config) {
        Map<String, Object> local = (Map<String, Object>) config.getOrDefault("local-server", Map.of());
        return new ServerOptions(
            String.valueOf(local.getOrDefault("host", "127.0.0.1")),
            ((Number) local.getOrDefault("port", 8080)).intValue(),
            ((Number) local.getOrDefault("management-port", 8081)).intValue(),
            String.valueOf(local.getOrDefault("username", "admin@kestra.io")),
            String.valueOf(local.getOrDefault("password", "Admin1234")),
            ((Number) local.getOrDefault("worker-threads", 16)).intValue(),
            String.valueOf(local.getOrDefault("kestra-version", "unknown")),
            openUrls(config),
            ((Number) local.getOrDefault("max-request-bytes", 128L << 20)).longValue(),
            (String) local.get("ui-dir")   // the built UI, or null: no UI
        );
    }

    /** {@code kestra.server.basic-auth.open-urls}: path prefixes served without credentials. */
    @SuppressWarnings("unchecked")
    private static List<String> openUrls(Map<String, Object> config) {
        Object node = config;
        for (String key : List.of("kestra", "server", "basic-auth", "open-urls")) {
            if (!(node instanceof Map<?, ?> map)) {
                return List.of();
            }
            node = map.get(key);
        }
        return node instanceof List<?> list ? (List<String>) list : List.of();
    }
}
