package dev.metaflow.kestra.server.api;

import io.kestra.core.async.AsyncOperationProcessedEvent;
import io.kestra.core.async.AsyncOperationsConfiguration;
import io.kestra.core.exceptions.InputOutputValidationException;
import io.kestra.core.executor.command.Create;
import io.kestra.core.executor.command.ExecutionCommand;
import io.kestra.core.executor.command.Restart;
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
import io.kestra.core.runners.FlowInputOutput;
import io.kestra.core.services.AsyncOperationWaiter;
import io.kestra.core.services.FlowService;
import io.kestra.core.utils.UriProvider;
import io.micronaut.context.ApplicationContext;
import io.micronaut.core.type.Argument;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** Kestra 2.x: creation, restart and labels are ExecutionCommands; kill stays on the kill queue. */
final class ExecutionApi {
    private static final Duration WAIT_POLL = Duration.ofMillis(100);
    private static final Duration WAIT_LIMIT = Duration.ofHours(1);

    private final ExecutionRepositoryInterface executions;
    private final FlowService flowService;
    private final FlowInputOutput flowInputOutput;
    private final DispatchQueueInterface<ExecutionCommand> commandQueue;
    private final BroadcastQueueInterface<ExecutionKilled> killQueue;
    private final AsyncOperationWaiter waiter;
    private final Duration commandTimeout;
    private final UriProvider uriProvider;

    ExecutionApi(ApplicationContext context) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.flowService = context.getBean(FlowService.class);
        this.flowInputOutput = context.getBean(FlowInputOutput.class);
        this.commandQueue = context.getBean(Argument.of(DispatchQueueInterface.class, ExecutionCommand.class));
        this.killQueue = context.getBean(Argument.of(BroadcastQueueInterface.class, ExecutionKilled.class));
        this.waiter = context.getBean(AsyncOperationWaiter.class);
        this.commandTimeout = context.getBean(AsyncOperationsConfiguration.class).waitTimeout();
        this.uriProvider = context.getBean(UriProvider.class);
    }

    void register(ApiServer api) {
        String base = "/api/v1/{tenant}/executions";
        api.add("POST", base + "/{namespace}/{id}", this::trigger);
        api.add("GET", base + "/search", this::search);
        api.add("GET", base + "/{executionId}", request -> existing(request));
        // 1.x paths, and the 2.0 ones (/actions/...) the official 2.0 clients call
        api.add("DELETE", base + "/{executionId}/kill", this::kill);
        api.add("DELETE", base + "/{executionId}/actions/kill", this::kill);
        api.add("POST", base + "/{executionId}/restart", this::restart);
        api.add("POST", base + "/{executionId}/actions/restart", this::restart);
        api.add("POST", base + "/{executionId}/labels", this::setLabels);
        api.add("POST", base + "/{executionId}/actions/labels", this::setLabels);
    }

    private Map<String, Object> trigger(Request request) throws Exception {
        Optional<Integer> revision = request.query("revision").map(Integer::parseInt);
        Flow flow = flowService.getFlowIfExecutableOrThrow(request.tenant(), request.path("namespace"),
            request.path("id"), revision);
        List<Label> labels = Labels.parse(request.queryAll("labels"));
        Map<String, Object> data = new LinkedHashMap<>();
        for (Multipart.Part part : request.parts()) {
            data.put(part.name(), part.text());
        }
        Optional<ZonedDateTime> scheduleDate = request.query("scheduleDate").map(ZonedDateTime::parse);
        Execution draft;
        try {
            // built here only to validate the inputs (422) and mint the id their files are stored under
            draft = Execution.newExecution(flow, (f, e) -> flowInputOutput.readExecutionInputs(f, e, data), labels, scheduleDate);
        } catch (InputOutputValidationException e) {
            throw new ApiException(422, "Invalid entity: " + e.getMessage());
        }
        Create command = Create.of(new ExecutionId(flow.getTenantId(), flow.getNamespace(), flow.getId(), draft.getId(), flow.getRevision()))
            .withLabels(labels)
            .withInputs(draft.getInputs())
            .withScheduleDate(draft.getScheduleDate());
        submit(draft.getId(), operationId -> emit(command.withOperationId(operationId)));
        Execution execution = request.query("wait").map(Boolean::parseBoolean).orElse(false)
            ? awaitTerminated(request.tenant(), draft.getId())
            : executions.findById(request.tenant(), draft.getId()).orElseThrow();
        return withUrl(execution);
    }

    private Object search(Request request) {
        return Paged.results(executions.find(Paged.pageable(request, 10, executions.sortMapping()), request.tenant(), QueryFilters.executions(request)));
    }

    private Response kill(Request request) throws Exception {
        Execution execution = existing(request);
        boolean cascade = request.query("isOnKillCascade").map(Boolean::parseBoolean).orElse(true);
        if (!cascade && execution.getState().isTerminated()) {
            throw ApiException.illegalState("Execution is already finished, can't kill it");
        }
        killQueue.emit(ExecutionKilledExecution.builder()
            .state(ExecutionKilled.State.REQUESTED)
            .executionId(execution.getId())
            .isOnKillCascade(cascade)
            .tenantId(request.tenant())
            .build());
        return new Response(202, null, new byte[0]);
    }

    private Execution restart(Request request) throws Exception {
        Execution execution = existing(request);
        if (!execution.getState().canBeRestarted()) {           // the executor checks too, but only logs
            throw ApiException.illegalState("Execution must be terminated or paused and not killed to be restarted, current state is '"
                + execution.getState().getCurrent() + "' !");
        }
        Integer revision = request.query("revision").map(Integer::parseInt).orElse(null);
        Restart command = Restart.from(execution, revision);
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(request.tenant(), execution.getId()).orElseThrow();
    }

    private Object setLabels(Request request) throws Exception {
        Execution execution = existing(request);
        if (!execution.getState().isTerminated()) {
            return Response.text(400, "application/json", "The execution is not terminated");
        }
        List<Label> labels = new ArrayList<>();
        execution.getLabels().stream().filter(label -> label.key().startsWith(Label.SYSTEM_PREFIX)).forEach(labels::add);
        labels.addAll(Labels.fromJson(request.body()));
        UpdateLabels command = UpdateLabels.from(execution, labels);
        submit(execution.getId(), operationId -> emit(command.withOperationId(operationId)));
        return executions.findById(request.tenant(), execution.getId()).orElseThrow();
    }

    private void submit(String executionId, Consumer<String> emit) throws Exception {
        AsyncOperationProcessedEvent done = waiter.submitAndWait(executionId, emit, commandTimeout);
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

    private Execution existing(Request request) {
        return executions.findById(request.tenant(), request.path("executionId"))
            .orElseThrow(() -> new ApiException(404, "Not Found"));
    }

    private Execution awaitTerminated(String tenant, String executionId) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Execution> found = executions.findById(tenant, executionId);
            if (found.isPresent() && found.get().getState().isTerminated()) {
                return found.get();
            }
            Thread.sleep(WAIT_POLL.toMillis());
        }
        throw new ApiException(408, "Request Timeout: execution " + executionId + " did not end within " + WAIT_LIMIT);
    }

    private Map<String, Object> withUrl(Execution execution) {
        Map<String, Object> body = Json.mapper().convertValue(execution, Json.MAP);
        body.put("url", uriProvider.executionUrl(execution).toString());
        return body;
    }
}
