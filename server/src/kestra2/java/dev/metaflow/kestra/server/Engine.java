package dev.metaflow.kestra.server;

import io.kestra.core.runners.Executor;
import io.kestra.core.runners.Indexer;
import io.kestra.core.runners.Scheduler;
import io.kestra.core.runners.Worker;
import io.kestra.core.worker.Controller;
import io.micronaut.context.ApplicationContext;

import java.time.Duration;

/**
 * Kestra 2.x's engine in this JVM: executor, worker controller (a gRPC server), worker
 * (its gRPC client), scheduler and indexer, started together as Kestra's TestRunner does.
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
        Executor executor = context.getBean(Executor.class);
        services.launch(executor, executor);
        Controller controller = context.getBean(Controller.class);   // DefaultController: gRPC server on kestra.controller.port
        services.launch(controller, controller::start);
        Worker worker = context.getBean(Worker.class);               // WorkerAgent: connects to kestra.worker.controllers.*
        services.launch(worker, () -> worker.start(workerThreads));
        Scheduler scheduler = context.getBean(Scheduler.class);
        services.launch(scheduler, scheduler);                       // run() = start(Scheduler.defaultMaxNumThreads())
        Indexer indexer = context.getBean(Indexer.class);
        services.launch(indexer, indexer);
        services.awaitServing(timeout);
    }

    @Override
    public void close() {
        services.close();
    }
}
