package dev.metaflow.kestra.server.api;

import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.executions.TaskRun;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.kestra.core.repositories.TaskOutputRepositoryInterface;
import io.kestra.core.services.ExecutionOutputService;
import io.kestra.core.services.TaskOutputService;
import io.micronaut.context.ApplicationContext;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Kestra 2.x's OutputController (kestrapy 2.0.3 OutputsApi): outputs are no longer in the Execution. */
final class OutputApi {
    private final ExecutionRepositoryInterface executions;
    private final ExecutionOutputService executionOutputs;
    private final TaskOutputService taskOutputs;
    private final TaskOutputRepositoryInterface taskOutputRepository;

    OutputApi(ApplicationContext context) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.executionOutputs = context.getBean(ExecutionOutputService.class);
        this.taskOutputs = context.getBean(TaskOutputService.class);
        this.taskOutputRepository = context.getBean(TaskOutputRepositoryInterface.class);
    }

    void register(ApiServer api) {
        String base = "/api/v1/{tenant}/outputs";
        api.add("GET", base + "/executions/{executionId}", r -> executionOutputs.getOutputs(existing(r)));
        api.add("GET", base + "/tasks/{executionId}", this::taskRunsWithOutputs);
        api.add("GET", base + "/tasks/{executionId}/{taskRunId}", this::taskRunOutputs);
    }

    /** [{taskId, taskRunId, value, iteration, inline}] for the task runs that have outputs. */
    private List<Map<String, Object>> taskRunsWithOutputs(Request request) {
        Execution execution = existing(request);
        Map<String, Boolean> inline = taskOutputRepository.findByExecution(execution).stream()
            .collect(Collectors.toMap(o -> o.taskRunId(), o -> o.uri() == null, (a, b) -> a));
        List<Map<String, Object>> result = new ArrayList<>();
        for (TaskRun taskRun : execution.getTaskRunList() == null ? List.<TaskRun>of() : execution.getTaskRunList()) {
            if (inline.containsKey(taskRun.getId())) {
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("taskId", taskRun.getTaskId());
                info.put("taskRunId", taskRun.getId());
                if (taskRun.getValue() != null) info.put("value", taskRun.getValue());
                if (taskRun.getIteration() != null) info.put("iteration", taskRun.getIteration());
                info.put("inline", inline.get(taskRun.getId()));
                result.add(info);
            }
        }
        return result;
    }

    private Map<String, Object> taskRunOutputs(Request request) throws Exception {
        TaskRun taskRun = existing(request).findTaskRunByTaskRunId(request.path("taskRunId"));
        return taskOutputs.getOutputs(taskRun);
    }

    private Execution existing(Request request) {
        return executions.findById(request.tenant(), request.path("executionId"))
            .orElseThrow(() -> new ApiException(404, "Not Found"));
    }
}
