package dev.metaflow.kestra.server.api;

import io.kestra.core.models.executions.LogEntry;
import io.kestra.core.repositories.LogRepositoryInterface;
import io.micronaut.context.ApplicationContext;
import org.slf4j.event.Level;

import java.util.List;

/** The logs API's finders on Kestra 1.x's {@code LogRepositoryInterface}. */
final class LineLogs implements LogStore {
    private final LogRepositoryInterface logs;

    LineLogs(ApplicationContext context) {
        this.logs = context.getBean(LogRepositoryInterface.class);
    }

    @Override
    public List<LogEntry> byExecution(String tenant, String executionId, Level minLevel) {
        return logs.findByExecutionId(tenant, executionId, minLevel);
    }

    @Override
    public List<LogEntry> byTask(String tenant, String executionId, String taskId, Level minLevel) {
        return logs.findByExecutionIdAndTaskId(tenant, executionId, taskId, minLevel);
    }

    @Override
    public List<LogEntry> byTaskRun(String tenant, String executionId, String taskRunId, Level minLevel) {
        return logs.findByExecutionIdAndTaskRunId(tenant, executionId, taskRunId, minLevel);
    }

    @Override
    public List<LogEntry> byAttempt(String tenant, String executionId, String taskRunId, Level minLevel, Integer attempt) {
        return logs.findByExecutionIdAndTaskRunIdAndAttempt(tenant, executionId, taskRunId, minLevel, attempt);
    }
}
