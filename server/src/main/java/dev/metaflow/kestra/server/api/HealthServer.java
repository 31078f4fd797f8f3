package dev.metaflow.kestra.server.api;

import com.sun.net.httpserver.HttpServer;
import dev.metaflow.kestra.server.ServerOptions;
import io.micronaut.context.ApplicationContext;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** The management port's {@code /health}, as Kestra serves it on 8081: UP once the engine runs. */
public final class HealthServer {
    private final ServerOptions options;
    private final ApplicationContext context;
    private HttpServer server;

    public HealthServer(ServerOptions options, ApplicationContext context) {
        this.options = options;
        this.context = context;
    }

    public void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(options.host(), options.managementPort()), 16);
        server.createContext("/health", exchange -> {
            boolean up = context.isRunning();
            byte[] body = ("{\"name\":\"kestra\",\"status\":\"" + (up ? "UP" : "DOWN") + "\"}")
                .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(up ? 200 : 503, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
