package dev.metaflow.kestra.server.api;

import io.kestra.core.async.AsyncOperationProcessedEvent;
import io.kestra.core.async.AsyncOperationsConfiguration;
import io.kestra.core.executor.command.Create;
import io.kestra.core.executor.command.ExecutionCommand;
import io.kestra.core.executor.command.Restart;
import io.kestra.core.executor.command.Resume;
import io.kestra.core.executor.command.UpdateLabels;
import io.kestra.core.models.Label;
import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.executions.ExecutionId;
import io.kestra.core.models.executions.ExecutionKilled;
import io.kestra.core.models.executions.ExecutionKilledExecution;
import io.kestra.core.models.flows.Flow;
import io.kestra.core.queues.BroadcastQueueInterface;
import io.kestra.core.queues.DispatchQueueInterface;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.kestra.core.services.AsyncOperationWaiter;
import io.micronaut.context.ApplicationContext;
import io.micronaut.core.type.Argument;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Kestra 2.x: creation, restart and labels are ExecutionCommands the executor applies (the
 * call waits until it has, as Kestra's web server does); kill stays on the kill queue.
 */
final class LineExecutions implements ExecutionCommands {
    private final ExecutionRepositoryInterface executions;
    private final DispatchQueueInterface<ExecutionCommand> commandQueue;
    private final BroadcastQueueInterface<ExecutionKilled> killQueue;
    private final AsyncOperationWaiter waiter;
    private final Duration commandTimeout;

    LineExecutions(ApplicationContext context) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.commandQueue = context.getBean(Argument.of(DispatchQueueInterface.class, ExecutionCommand.class));
        this.killQueue = context.getBean(Argument.of(BroadcastQueueInterface.class, ExecutionKilled.class));
        this.waiter = context.getBean(AsyncOperationWaiter.class);
        this.commandTimeout = context.getBean(AsyncOperationsConfiguration.class).waitTimeout();
    }

    @Override
    public Execution create(Flow flow, Execution draft, List<Label> labels) throws Exception {
        Create command = Create.of(new ExecutionId(flow.getTenantId(), flow.getNamespace(), flow.getId(), draft.getId(), flow.getRevision()))
            .withLabels(labels)
            .withInputs(draft.getInputs())
            .withScheduleDate(draft.getScheduleDate());
        submit(draft.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(flow.getTenantId(), draft.getId()).orElseThrow();
    }

    @Override
    public void kill(String tenant, String executionId, boolean cascade) throws Exception {
        killQueue.emit(killRequest(tenant, executionId, cascade).build());
    }

    /** As 2.0's ExecutionController: the kill is an operation; the execution once the executor applied it. */
    @Override
    public Execution killAndWait(String tenant, String executionId, boolean cascade) throws Exception {
        submit(executionId, operationId -> {
            try {
                killQueue.emit(killRequest(tenant, executionId, cascade).operationId(operationId).build());
            } catch (Exception e) {
                throw new IllegalStateException("Cannot queue the kill: " + e.getMessage(), e);
            }
        });
        return executions.findById(tenant, executionId).orElseThrow();
    }

    private static ExecutionKilledExecution.ExecutionKilledExecutionBuilder<?, ?> killRequest(String tenant, String executionId,
                                                                                           boolean cascade) {
        return ExecutionKilledExecution.builder()
            .state(ExecutionKilled.State.REQUESTED)
            .executionId(executionId)
            .isOnKillCascade(cascade)
            .tenantId(tenant);
    }

    @Override
    public Execution restart(Execution execution, Integer revision) throws Exception {
        if (!execution.getState().canBeRestarted()) {           // the executor checks too, but only logs
            throw ApiException.illegalState("Execution must be terminated or paused and not killed to be restarted, current state is '"
                + execution.getState().getCurrent() + "' !");
        }
        Restart command = Restart.from(execution, revision);
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(execution.getTenantId(), execution.getId()).orElseThrow();
    }

    /** As 2.x's ExecutionController: a Pause command the executor applies; the execution as it is then. */
    @Override
    public Execution pause(Execution execution) throws Exception {
        if (!execution.getState().isRunning()) {
            throw new ApiException(409, "Conflict: Cannot pause execution: execution is not running.");
        }
        io.kestra.core.executor.command.Pause command = io.kestra.core.executor.command.Pause.from(execution);
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(execution.getTenantId(), execution.getId()).orElseThrow();
    }

    /** As 2.x's ExecutionController: a Resume command (no inputs: paused by hand); the execution then. */
    @Override
    public Execution resume(Execution execution, Flow flow) throws Exception {
        Resume command = Resume.from(execution, io.kestra.plugin.core.flow.Pause.Resumed.now(), Map.of());
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(execution.getTenantId(), execution.getId()).orElseThrow();
    }

    @Override
    public Execution setLabels(Execution execution, List<Label> labels) throws Exception {
        UpdateLabels command = UpdateLabels.from(execution, labels);
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(execution.getTenantId(), execution.getId()).orElseThrow();
    }

    @Override
    public List<String> actionPrefixes() {
        return List.of("", "actions/");   // the 1.x paths, and the 2.0 ones the official 2.0 clients call
    }

    private void submit(String executionId, Consumer<String> emit) throws Exception {
        AsyncOperationProcessedEvent done;
        try {
            done = waiter.submitAndWait(executionId, emit, commandTimeout);
        } catch (TimeoutException e) {
            throw new ApiException(504, "Gateway Timeout: the executor did not apply the operation within " + commandTimeout);
        }
        if (done != null && done.outcome() == AsyncOperationProcessedEvent.Outcome.FAILED) {
            throw ApiException.illegalState(done.error());
        }
    }

    private void emit(ExecutionCommand command) {
        try {
            commandQueue.emit(command);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot queue " + command.type() + ": " + e.getMessage(), e);
        }
    }
}
