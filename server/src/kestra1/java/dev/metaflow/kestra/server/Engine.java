package dev.metaflow.kestra.server;

import io.kestra.core.runners.ExecutorInterface;
import io.kestra.core.runners.Indexer;
import io.kestra.core.runners.Scheduler;
import io.kestra.core.runners.Worker;
import io.kestra.core.server.Service;
import io.kestra.worker.DefaultWorker;
import io.micronaut.context.ApplicationContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Kestra's engine in this JVM: executor, worker, scheduler and indexer, the
 * services Kestra's own standalone server runs, started on one application
 * context and considered ready when each reports RUNNING.
 */
public final class Engine implements AutoCloseable {
    private final ApplicationContext context;
    private final int workerThreads;
    private final List<Service> services = new ArrayList<>();
    private ExecutorService pool;

    public Engine(ApplicationContext context, int workerThreads) {
        this.context = context;
        this.workerThreads = workerThreads;
    }

    public void start(Duration timeout) throws InterruptedException {
        pool = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "engine-service");
            thread.setDaemon(true);
            return thread;
        });
        launch(context.getBean(ExecutorInterface.class));
        Worker worker = context.createBean(DefaultWorker.class, UUID.randomUUID().toString(), workerThreads, null);
        context.registerSingleton(worker);
        launch(worker);
        launch(context.getBean(Scheduler.class));
        launch(context.getBean(Indexer.class));
        awaitRunning(timeout);
    }

    private void launch(Service service) {
        services.add(service);
        pool.execute((Runnable) service);
    }

    private void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> waiting = services.stream()
                .filter(service -> service.getState() != null && !service.getState().isRunning())
                .map(service -> service.getClass().getSimpleName())
                .toList();
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Kestra services not running after " + timeout + ": " + waiting);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
