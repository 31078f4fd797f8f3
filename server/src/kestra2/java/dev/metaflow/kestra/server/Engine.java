package dev.metaflow.kestra.server;

import io.kestra.core.runners.Executor;
import io.kestra.core.runners.Indexer;
import io.kestra.core.runners.Scheduler;
import io.kestra.core.runners.Worker;
import io.kestra.core.server.Service;
import io.kestra.core.worker.Controller;
import io.micronaut.context.ApplicationContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Kestra 2.x: executor, worker controller (gRPC server), worker (gRPC client), scheduler, indexer. */
public final class Engine implements AutoCloseable {
    private static final Set<Service.ServiceState> STARTING = EnumSet.of(
        Service.ServiceState.CREATED, Service.ServiceState.RUNNING, Service.ServiceState.MAINTENANCE);
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
        Executor executor = context.getBean(Executor.class);
        launch(executor, executor);
        Controller controller = context.getBean(Controller.class);   // DefaultController: gRPC server on kestra.controller.port
        launch(controller, controller::start);
        Worker worker = context.getBean(Worker.class);               // WorkerAgent: connects to kestra.worker.controllers.*
        launch(worker, () -> worker.start(workerThreads));
        Scheduler scheduler = context.getBean(Scheduler.class);
        launch(scheduler, scheduler);                                // run() = start(Scheduler.defaultMaxNumThreads())
        Indexer indexer = context.getBean(Indexer.class);
        launch(indexer, indexer);
        awaitRunning(timeout);
    }

    private void launch(Service service, Runnable start) {
        services.add(service);
        pool.execute(start);
    }

    private void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> failed = services.stream()
                .filter(s -> s.getState() != null && !STARTING.contains(s.getState()))
                .map(s -> s.getClass().getSimpleName() + " (" + s.getState() + ")").toList();
            if (!failed.isEmpty()) {
                throw new IllegalStateException("Kestra services stopped while starting: " + failed);
            }
            List<String> waiting = services.stream()
                .filter(s -> s.getState() != Service.ServiceState.RUNNING && s.getState() != Service.ServiceState.MAINTENANCE)
                .map(s -> s.getClass().getSimpleName() + " (" + s.getState() + ")").toList();
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
