package dev.metaflow.kestra.server.api;

import io.kestra.core.models.executions.LogEntry;
import org.slf4j.event.Level;

import java.util.List;
import java.util.stream.Collectors;

/** {@code GET /logs/{executionId}} (a JSON list) and {@code /download} (text), as Kestra's LogController. */
final class LogApi {
    private final LogStore logs;

    LogApi(LogStore logs) {
        this.logs = logs;
    }

    void register(ApiServer api) {
        api.add("GET", "/api/v1/{tenant}/logs/{executionId}", this::find);
        api.add("GET", "/api/v1/{tenant}/logs/{executionId}/download", this::download);
    }

    private List<LogEntry> find(Request request) {
        String tenant = request.tenant();
        String executionId = request.path("executionId");
        Level minLevel = request.query("minLevel").map(String::toUpperCase).map(Level::valueOf).orElse(null);
        Integer attempt = request.query("attempt").map(Integer::parseInt).orElse(null);
        var taskRunId = request.query("taskRunId");
        var taskId = request.query("taskId");
        if (taskRunId.isPresent() && attempt != null) {
            return logs.byAttempt(tenant, executionId, taskRunId.get(), minLevel, attempt);
        }
        if (taskRunId.isPresent()) {
            return logs.byTaskRun(tenant, executionId, taskRunId.get(), minLevel);
        }
        if (taskId.isPresent()) {
            return logs.byTask(tenant, executionId, taskId.get(), minLevel);
        }
        return logs.byExecution(tenant, executionId, minLevel);
    }

    private Response download(Request request) {
        String text = find(request).stream().map(LogEntry::toPrettyString).collect(Collectors.joining("\n"));
        return Response.text(200, "text/plain", text.isEmpty() ? text : text + "\n");
    }
}
