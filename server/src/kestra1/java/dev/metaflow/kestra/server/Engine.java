package dev.metaflow.kestra.server;

import io.kestra.core.runners.ExecutorInterface;
import io.kestra.core.runners.Indexer;
import io.kestra.core.runners.Scheduler;
import io.kestra.core.runners.Worker;
import io.kestra.worker.DefaultWorker;
import io.micronaut.context.ApplicationContext;

import java.time.Duration;
import java.util.UUID;

/**
 * Kestra 1.x's engine in this JVM: executor, worker, scheduler and indexer, the
 * services Kestra's own standalone server runs, on one application context.
 */
public final class Engine implements AutoCloseable {
    private final ApplicationContext context;
    private final int workerThreads;
    private final EngineServices services = new EngineServices();

    public Engine(ApplicationContext context, int workerThreads) {
        this.context = context;
        this.workerThreads = workerThreads;
    }

    public void start(Duration timeout) throws InterruptedException {
        ExecutorInterface executor = context.getBean(ExecutorInterface.class);
        services.launch(executor, (Runnable) executor);
        Worker worker = context.createBean(DefaultWorker.class, UUID.randomUUID().toString(), workerThreads, null);
        context.registerSingleton(worker);
        services.launch(worker, (Runnable) worker);
        Scheduler scheduler = context.getBean(Scheduler.class);
        services.launch(scheduler, (Runnable) scheduler);
        Indexer indexer = context.getBean(Indexer.class);
        services.launch(indexer, (Runnable) indexer);
        services.awaitServing(timeout);
    }

    @Override
    public void close() {
        services.close();
    }
}
