package dev.metaflow.kestra.server.api;

import io.kestra.core.exceptions.InputOutputValidationException;
import io.kestra.core.models.Label;
import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.flows.Flow;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.kestra.core.runners.FlowInputOutput;
import io.kestra.core.services.FlowService;
import io.kestra.core.utils.UriProvider;
import io.micronaut.context.ApplicationContext;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Executions: trigger, get, search, kill, restart and labels, as Kestra's
 * ExecutionController answers them; each line's LineExecutions applies the changes.
 */
final class ExecutionApi {
    private static final Duration WAIT_POLL = Duration.ofMillis(100);
    /** As Kestra's web server: a waiting trigger call gives up after an hour. */
    private static final Duration WAIT_LIMIT = Duration.ofHours(1);

    private final ExecutionRepositoryInterface executions;
    private final FlowService flowService;
    private final FlowInputOutput flowInputOutput;
    private final UriProvider uriProvider;
    private final ExecutionCommands commands;

    ExecutionApi(ApplicationContext context, ExecutionCommands commands) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.flowService = context.getBean(FlowService.class);
        this.flowInputOutput = context.getBean(FlowInputOutput.class);
        this.uriProvider = context.getBean(UriProvider.class);
        this.commands = commands;
    }

    void register(ApiServer api) {
        String base = "/api/v1/{tenant}/executions";
        api.add("POST", base + "/{namespace}/{id}", this::trigger);
        api.add("GET", base + "/search", this::search);
        api.add("GET", base + "/{executionId}", request -> existing(request));
        for (String prefix : commands.actionPrefixes()) {
            boolean action = !prefix.isEmpty();
            api.add("DELETE", base + "/{executionId}/" + prefix + "kill", request -> kill(request, action));
            api.add("POST", base + "/{executionId}/" + prefix + "restart", this::restart);
            api.add("POST", base + "/{executionId}/" + prefix + "labels", this::setLabels);
            api.add("POST", base + "/{executionId}/" + prefix + "pause", this::pause);
            api.add("POST", base + "/{executionId}/" + prefix + "resume", this::resume);
        }
    }

    private Map<String, Object> trigger(Request request) throws Exception {
        Optional<Integer> revision = request.query("revision").map(Integer::parseInt);
        // A missing flow: NoSuchElementException "Requested Flow is not found.", a 404 through Errors.
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
            draft = Execution.newExecution(flow, (f, e) -> flowInputOutput.readExecutionInputs(f, e, data),
                labels, scheduleDate);
        } catch (InputOutputValidationException e) {
            throw new ApiException(422, "Invalid entity: " + e.getMessage());
        }
        Execution execution = commands.create(flow, draft, labels);
        if (request.query("wait").map(Boolean::parseBoolean).orElse(false)) {
            execution = awaitTerminated(request.tenant(), execution.getId());
        }
        return withUrl(execution);
    }

    private Object search(Request request) {
        return Paged.results(executions.find(Paged.pageable(request, 10, executions.sortMapping()), request.tenant(),
            QueryFilters.executions(request)));
    }

    /**
     * Kill: 1.x answers 202 and nothing; 2.0's {@code actions/kill} waits for the executor and
     * answers with the execution, as {@code text/json} (both read in Kestra's ExecutionController).
     */
    private Response kill(Request request, boolean action) throws Exception {
        Execution execution = existing(request);
        boolean cascade = request.query("isOnKillCascade").map(Boolean::parseBoolean).orElse(true);
        if (!cascade && execution.getState().isTerminated()) {
            throw ApiException.illegalState("Execution is already finished, can't kill it");
        }
        if (action) {
            Execution killed = commands.killAndWait(request.tenant(), execution.getId(), cascade);
            return new Response(200, "text/json", Json.bytes(killed));
        }
        commands.kill(request.tenant(), execution.getId(), cascade);
        return new Response(202, null, new byte[0]);
    }

    private Execution restart(Request request) throws Exception {
        Integer revision = request.query("revision").map(Integer::parseInt).orElse(null);
        return commands.restart(existing(request), revision);
    }

    /** Kestra's pause: 404 as its controller (a bare "Page Not Found") for an unknown execution. */
    private Object pause(Request request) throws Exception {
        Execution execution = executions.findById(request.tenant(), request.path("executionId"))
            .orElseThrow(() -> new ApiException(404, "Not Found: Page Not Found"));
        Execution paused = commands.pause(execution);
        return paused != null ? paused : new Response(200, null, new byte[0]);
    }

    /** Kestra's resume of an execution paused by hand (a multipart body of inputs is accepted and unused). */
    private Object resume(Request request) throws Exception {
        String id = request.path("executionId");
        Execution execution = executions.findById(request.tenant(), id)
            .orElseThrow(() -> ApiException.notFound("Execution '" + id + "' not found."));
        if (execution.getState().getCurrent() != io.kestra.core.models.flows.State.Type.PAUSED) {
            throw ApiException.illegalState("Execution '" + id + "' is not paused, can't resume it");
        }
        Flow flow = flowService.getFlowIfExecutableOrThrow(request.tenant(), execution.getNamespace(),
            execution.getFlowId(), Optional.of(execution.getFlowRevision()));
        Execution resumed = commands.resume(execution, flow);
        return resumed != null ? resumed : new Response(204, null, new byte[0]);
    }

    /** Replace the user labels of a terminated execution, keeping its system labels. */
    private Object setLabels(Request request) throws Exception {
        Execution execution = existing(request);
        if (!execution.getState().isTerminated()) {
            return Response.text(400, "application/json", "The execution is not terminated");
        }
        List<Label> labels = new ArrayList<>();
        execution.getLabels().stream().filter(label -> label.key().startsWith(Label.SYSTEM_PREFIX)).forEach(labels::add);
        labels.addAll(Labels.fromJson(request.body()));
        return commands.setLabels(execution, labels);
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

    /** Kestra's ExecutionResponse: the execution plus the URL of its page in the UI. */
    private Map<String, Object> withUrl(Execution execution) {
        Map<String, Object> body = Json.mapper().convertValue(execution, Json.MAP);
        body.put("url", uriProvider.executionUrl(execution).toString());
        return body;
    }
}
