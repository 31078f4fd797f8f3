package dev.metaflow.kestra.server.api;

import io.kestra.core.models.executions.LogEntry;
import org.slf4j.event.Level;

import java.util.List;

/**
 * The log finders the logs API calls. Each Kestra line adapts its own store
 * ({@code LineLogs}): 1.x's LogRepositoryInterface and 2.x's LogDataStoreInterface
 * have the same finders on different interfaces.
 */
interface LogStore {
    List<LogEntry> byExecution(String tenant, String executionId, Level minLevel);

    List<LogEntry> byTask(String tenant, String executionId, String taskId, Level minLevel);

    List<LogEntry> byTaskRun(String tenant, String executionId, String taskRunId, Level minLevel);

    List<LogEntry> byAttempt(String tenant, String executionId, String taskRunId, Level minLevel, Integer attempt);
}
