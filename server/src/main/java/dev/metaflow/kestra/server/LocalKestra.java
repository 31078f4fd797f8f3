package dev.metaflow.kestra.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaflow.kestra.server.api.ApiServer;
import dev.metaflow.kestra.server.api.HealthServer;
import io.micronaut.context.ApplicationContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.time.Duration;
import java.util.Map;

/**
 * The local server's entry point: {@code LocalKestra <config.json>}.
 *
 * The JSON file holds Kestra's own configuration (the same tree as Kestra's
 * application.yml) plus a {@code local-server} section for what this process
 * adds: the API and health ports, and the development user.
 */
public final class LocalKestra {
    private static final Logger log = LoggerFactory.getLogger(LocalKestra.class);
    private static volatile boolean stopping;

    private LocalKestra() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: LocalKestra <config.json>");
            System.exit(2);
        }
        try {
            start(args[0]);
        } catch (Throwable e) {
            // The engine's threads are not daemons: exit, so the supervisor sees the failure at once.
            log.error("The local Kestra failed to start", e);
            System.exit(1);
        }
    }

    private static void start(String configPath) throws Exception {
        long began = System.nanoTime();
        Map<String, Object> config = new ObjectMapper().readValue(new File(configPath), new TypeReference<>() {
        });
        ServerOptions options = ServerOptions.from(config);

        ApplicationContext context = ApplicationContext.builder()
            .deduceEnvironment(false)
            .properties(Properties.flatten(config))
            .start();
        Engine engine = new Engine(context, options.workerThreads());
        ApiServer api = new ApiServer(context, options);
        HealthServer health = new HealthServer(options, context);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            log.info("Stopping the local Kestra");
            health.stop();
            api.stop();
            engine.close();
            context.close();
        }, "shutdown"));

        engine.start(Duration.ofMinutes(2));
        api.start();
        health.start();
        log.info("Local Kestra {} ready in {} ms: API http://{}:{}/api/v1/, health http://{}:{}/health",
            options.kestraVersion(), (System.nanoTime() - began) / 1_000_000,
            options.host(), options.port(), options.host(), options.managementPort());
        exitWhenTheEngineStops(context);
    }

    /**
     * Kestra shuts its context down by itself on some fatal errors (a queue it cannot poll). The
     * API would then answer every call with HTTP 500: exit instead, so `server status` says the
     * server is down and `server start` starts it again (the runs it held then resume).
     */
    private static void exitWhenTheEngineStops(ApplicationContext context) {
        Thread watcher = new Thread(() -> {
            while (context.isRunning()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (!stopping) {
                log.error("Kestra's engine shut itself down (the reason is logged above): the local server exits");
                System.exit(70);
            }
        }, "engine-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }
}
