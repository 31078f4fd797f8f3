package dev.metaflow.kestra.server.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.metaflow.kestra.server.ServerOptions;
import io.micronaut.context.ApplicationContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Kestra's REST API on the JDK's HTTP server: routes from one class per API
 * area, basic auth for the development user, and errors as Kestra sends them; the web UI's
 * files under /ui/; and no request that another site's page makes a browser send.
 */
public final class ApiServer {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    /** Streams open at once (a UI page follows an execution and its logs); more get 503. */
    private static final int MAX_STREAMS = 64;

    private final ServerOptions options;
    private final BasicAuth auth;
    private final List<Route> routes = new ArrayList<>();
    private final UiFiles ui;
    private HttpServer server;
    private ExecutorService pool;
    private ThreadPoolExecutor streams;

    public ApiServer(ApplicationContext context, ServerOptions options) {
        this.options = options;
        this.auth = new BasicAuth(options.username(), options.password());
        this.ui = options.uiDir() == null ? null : new UiFiles(Path.of(options.uiDir()));
        new ConfigApi(options).register(this);
        new FlowApi(context, new LineFlows(context)).register(this);
        LogStore logs = new LineLogs(context);
        new LogApi(logs).register(this);
        new ExecutionApi(context, new LineExecutions(context)).register(this);
        LineApis.register(this, context);
        new WebhookApi(context).register(this);
        new NamespaceFileApi(context).register(this);
        new FollowApi(context, logs).register(this);
        new ExecutionFileApi(context).register(this);
        // The most specific template first: literal segments beat variables.
        routes.sort(Comparator.comparingInt(Route::literalCount).reversed());
    }

    void add(String method, String template, Route.Handler handler) {
        routes.add(Route.of(method, template, handler));
    }

    public void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        pool = Executors.newFixedThreadPool(16, runnable -> {
            Thread thread = new Thread(runnable, "api");
            thread.setDaemon(true);
            return thread;
        });
        // A stream holds its thread while it lasts: its own pool, so requests never wait behind one.
        streams = new ThreadPoolExecutor(0, MAX_STREAMS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
            Thread thread = new Thread(runnable, "api-stream");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(pool);
        server.createContext("/", this::serve);
        server.start();
    }

    public void stop() {
        if (server != null) {
            server.stop(0);
            pool.shutdownNow();
            streams.shutdownNow();
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        Response response;
        String uri = exchange.getRequestURI().toString();
        try {
            response = dispatch(exchange);
        } catch (Exception e) {
            ApiException api = Errors.toApi(e);
            if (api == null) {
                log.error("{} {} failed", exchange.getRequestMethod(), uri, e);
                api = new ApiException(500, "Internal server error: " + e.getMessage());
            }
            response = Response.error(api.status(), api.getMessage(), uri);
        }
        if (response.events() != null) {
            stream(exchange, response);
        } else {
            send(exchange, response);
        }
    }

    private void stream(HttpExchange exchange, Response response) throws IOException {
        try {
            streams.execute(() -> {
                try {
                    exchange.getResponseHeaders().set("Content-Type", response.contentType());
                    response.headers().forEach(exchange.getResponseHeaders()::set);
                    exchange.sendResponseHeaders(200, 0);   // chunked: the events go out as they come
                    response.events().write(new EventStream.Sink(exchange.getResponseBody()));
                } catch (IOException gone) {
                    // The client closed the stream: nothing to answer.
                } catch (Exception e) {
                    log.error("{} {}: the stream failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                } finally {
                    exchange.close();
                }
            });
        } catch (RejectedExecutionException full) {
            send(exchange, Response.error(503, "Service Unavailable: " + MAX_STREAMS + " streams are open already",
                exchange.getRequestURI().toString()));
        }
    }

    private Response dispatch(HttpExchange exchange) throws Exception {
        if (!LoopbackHost.accepts(exchange.getRequestHeaders().getFirst("Host"))) {
            // A page on another site that rebinds its name to 127.0.0.1 still sends its own Host.
            throw new ApiException(403, "Forbidden: this server answers requests for 127.0.0.1 and "
                + "localhost only, not for Host '" + exchange.getRequestHeaders().getFirst("Host") + "'");
        }
        // Routed on the raw path, each segment decoded on its own: an escaped "/" or "." stays
        // inside its segment (and a tenant of "%2E%2E" is refused below, never a path).
        String rawPath = exchange.getRequestURI().getRawPath();
        String[] path = PathSegments.decode(rawPath);
        String method = exchange.getRequestMethod();
        String crossSite = isOpen(rawPath, options.openUrls()) ? null
            : CrossSite.refusal(exchange.getRequestHeaders(), method, rawPath);
        if (crossSite != null) {
            throw new ApiException(403, "Forbidden: " + crossSite + " is refused; open the UI at /ui/ "
                + "on this server, or call the API from a program");
        }
        if (ui != null && UiFiles.isUiPath(rawPath)) {
            return ui.serve(method, rawPath, exchange.getRequestHeaders().getFirst("Accept-Encoding"));
        }
        if (rawPath.startsWith("/api/v1/") && !isOpen(rawPath, options.openUrls())
            && !auth.accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
            String mode = exchange.getRequestHeaders().getFirst("Sec-Fetch-Mode");
            if (mode == null || mode.equals("navigate")) {
                // Not to the UI's own calls: a browser would answer with its login dialog over the page's form.
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic");
            }
            return new Response(401, null, new byte[0]);
        }
        for (Route route : routes) {
            Map<String, String> variables = route.match(method, path);
            if (variables == null) {
                continue;
            }
            String tenant = variables.get("tenant");
            if (tenant != null && !PathSegments.isTenant(tenant)) {
                throw new ApiException(400, "Invalid tenant '" + tenant + "': a tenant id is letters, digits, "
                    + "'_' and '-', starting with a letter or a digit");
            }
            Object answer = route.handler().handle(new Request(exchange, variables, options.maxRequestBytes()));
            return answer instanceof Response response ? response : Response.json(200, answer);
        }
        throw new ApiException(404, "Not Found");
    }

    /**
     * What is served without credentials: the config endpoint (as in Kestra), and under each
     * prefix of kestra.server.basic-auth.open-urls (webhooks, on the local server) exactly the
     * webhook route's three segments, namespace, flow id and key. A bare prefix would open more:
     * {@code POST /api/v1/main/executions/webhook/<flow>} is the route that starts flow
     * {@code <flow>} of namespace {@code webhook}.
     */
    static boolean isOpen(String path, List<String> openUrls) {
        if (path.equals("/api/v1/configs")) {
            return true;
        }
        for (String prefix : openUrls) {
            if (path.startsWith(prefix)) {
                String[] rest = path.substring(prefix.length()).split("/", -1);
                if (rest.length == 3 && Arrays.stream(rest).noneMatch(String::isEmpty)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void send(HttpExchange exchange, Response response) throws IOException {
        if (response.contentType() != null) {
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
        }
        response.headers().forEach(exchange.getResponseHeaders()::set);
        if (response.source() != null) {
            try (InputStream in = response.source(); OutputStream out = exchange.getResponseBody()) {
                exchange.sendResponseHeaders(response.status(), 0);   // chunked
                in.transferTo(out);
            } finally {
                exchange.close();
            }
            return;
        }
        byte[] body = response.body();
        boolean empty = body.length == 0 || "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(response.status(), empty ? -1 : body.length);
        if (!empty) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
        exchange.close();
    }
}
