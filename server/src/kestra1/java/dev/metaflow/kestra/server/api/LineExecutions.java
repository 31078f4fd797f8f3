package dev.metaflow.kestra.server.api;

import io.kestra.core.models.Label;
import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.executions.ExecutionKilled;
import io.kestra.core.models.executions.ExecutionKilledExecution;
import io.kestra.core.models.flows.Flow;
import io.kestra.core.models.flows.State;
import io.kestra.plugin.core.flow.Pause;
import io.kestra.core.queues.QueueFactoryInterface;
import io.kestra.core.queues.QueueInterface;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.kestra.core.services.ExecutionService;
import io.micronaut.context.ApplicationContext;
import io.micronaut.inject.qualifiers.Qualifiers;

import java.util.List;

/** Kestra 1.x: executions, restarts and kills go on the engine's named queues; labels are saved. */
final class LineExecutions implements ExecutionCommands {
    private final ExecutionRepositoryInterface executions;
    private final ExecutionService executionService;
    private final QueueInterface<Execution> executionQueue;
    private final QueueInterface<ExecutionKilled> killQueue;

    @SuppressWarnings("unchecked")
    LineExecutions(ApplicationContext context) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.executionService = context.getBean(ExecutionService.class);
        this.executionQueue = context.getBean(QueueInterface.class, Qualifiers.byName(QueueFactoryInterface.EXECUTION_NAMED));
        this.killQueue = context.getBean(QueueInterface.class, Qualifiers.byName(QueueFactoryInterface.KILL_NAMED));
    }

    @Override
    public Execution create(Flow flow, Execution draft, List<Label> labels) throws Exception {
        executionQueue.emit(draft);
        return draft;
    }

    @Override
    public void kill(String tenant, String executionId, boolean cascade) throws Exception {
        killQueue.emit(ExecutionKilledExecution.builder()
            .state(ExecutionKilled.State.REQUESTED)
            .executionId(executionId)
            .isOnKillCascade(cascade)
            .tenantId(tenant)
            .build());
    }

    @Override
    public Execution killAndWait(String tenant, String executionId, boolean cascade) {
        throw new UnsupportedOperationException("Kestra 1.x has no actions/kill");
    }

    @Override
    public Execution restart(Execution execution, Integer revision) throws Exception {
        Execution restarted = executionService.restart(execution, revision);
        executionQueue.emit(restarted);
        return restarted;
    }

    /** As 1.x's ExecutionController: ExecutionService.pause, emitted on the execution queue; 200, no body. */
    @Override
    public Execution pause(Execution execution) throws Exception {
        executionQueue.emit(executionService.pause(execution));   // not running: "The execution is not running" (422)
        return null;
    }

    /** As 1.x's ExecutionController: ExecutionService.resume to RUNNING, emitted; 204. */
    @Override
    public Execution resume(Execution execution, Flow flow) throws Exception {
        executionQueue.emit(executionService.resume(execution, flow, State.Type.RUNNING, Pause.Resumed.now()));
        return null;
    }

    @Override
    public Execution setLabels(Execution execution, List<Label> labels) {
        return executions.save(execution.withLabels(labels));
    }

    @Override
    public List<String> actionPrefixes() {
        return List.of("");
    }
}
