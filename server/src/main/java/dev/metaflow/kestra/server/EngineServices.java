package dev.metaflow.kestra.server;

import io.kestra.core.server.Service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The services of Kestra's engine that one line's Engine wires, each run on its own
 * daemon thread, and the wait until they all serve: as Kestra's standalone server
 * (and its TestRunner) does, ready when every one is RUNNING or in MAINTENANCE,
 * failed as soon as one reports any state but those or CREATED.
 */
final class EngineServices implements AutoCloseable {
    private static final Set<Service.ServiceState> STARTING = EnumSet.of(
        Service.ServiceState.CREATED, Service.ServiceState.RUNNING, Service.ServiceState.MAINTENANCE);
    private static final Set<Service.ServiceState> SERVING = EnumSet.of(
        Service.ServiceState.RUNNING, Service.ServiceState.MAINTENANCE);

    private final List<Service> services = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "engine-service");
        thread.setDaemon(true);
        return thread;
    });

    /** Run `service` by `start` (its run(), or the line's own start method). */
    void launch(Service service, Runnable start) {
        services.add(service);
        pool.execute(start);
    }

    void awaitServing(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> failed = services.stream()
                .filter(s -> s.getState() != null && !STARTING.contains(s.getState()))
                .map(EngineServices::describe).toList();
            if (!failed.isEmpty()) {
                throw new IllegalStateException("Kestra services stopped while starting: " + failed);
            }
            List<String> waiting = services.stream()
                .filter(s -> !SERVING.contains(s.getState()))
                .map(EngineServices::describe).toList();
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Kestra services not running after " + timeout + ": " + waiting);
            }
            Thread.sleep(50);
        }
    }

    private static String describe(Service service) {
        return service.getClass().getSimpleName() + " (" + service.getState() + ")";
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
