package dev.metaflow.kestra.server.api;

import dev.metaflow.kestra.server.ServerOptions;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /api/v1/configs}: what a client reads to learn the server's version. */
final class ConfigApi {
    private final ServerOptions options;

    ConfigApi(ServerOptions options) {
        this.options = options;
    }

    void register(ApiServer api) {
        api.add("GET", "/api/v1/configs", request -> configs());
    }

    private Map<String, Object> configs() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uuid", "metaflow-kestra-local");
        body.put("version", options.kestraVersion());
        body.put("edition", "OSS");
        body.put("isBasicAuthEnabled", true);
        body.put("isTaskRunEnabled", false);
        body.put("isAnonymousUsageEnabled", false);
        body.put("url", "http://" + options.host() + ":" + options.port() + "/");
        return body;
    }
}
