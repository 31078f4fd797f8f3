package dev.metaflow.kestra.server.api;

import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.executions.LogEntry;
import io.kestra.core.models.executions.TaskRun;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.micronaut.context.ApplicationContext;
import org.slf4j.event.Level;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Following a run as Kestra's UI and SDK do, with server-sent events (Kestra's
 * ExecutionStreamingService and LogController, 1.3 and 2.0, read):
 * <ul>
 *   <li>{@code GET /executions/{id}/follow}: {@code start} with the id only, then the whole
 *   execution as {@code progress} on each change, and {@code end} once it and all its task runs
 *   have ended, which closes the stream. An execution not found within 10 s closes it after
 *   {@code start}, as Kestra's does.</li>
 *   <li>{@code GET /logs/{id}/follow?minLevel=}: {@code start} with an empty entry, every stored
 *   entry, then new ones, each as {@code progress}. Like Kestra's, it never ends by itself.</li>
 * </ul>
 * Kestra pushes from its queues; this server reads its repositories every {@link #POLL}, which
 * a client cannot tell apart. Both streams close after an hour without an event, as Kestra's.
 */
final class FollowApi {
    static final Duration POLL = Duration.ofMillis(250);
    private static final Duration LOOKUP = Duration.ofSeconds(10);
    private static final Duration IDLE_LIMIT = Duration.ofHours(1);
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    private final ExecutionRepositoryInterface executions;
    private final LogStore logs;

    FollowApi(ApplicationContext context, LogStore logs) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.logs = logs;
    }

    void register(ApiServer api) {
        api.add("GET", "/api/v1/{tenant}/executions/{executionId}/follow", this::followExecution);
        api.add("GET", "/api/v1/{tenant}/logs/{executionId}/follow", this::followLogs);
    }

    private Response followExecution(Request request) {
        String tenant = request.tenant();
        String id = request.path("executionId");
        return Response.events(sink -> {
            Map<String, Object> stub = new LinkedHashMap<>();
            stub.put("id", id);
            stub.put("deleted", false);
            sink.send("start", stub);
            Optional<Execution> found = lookUp(tenant, id);
            if (found.isEmpty()) {
                return;
            }
            Clock clock = new Clock();
            String last = null;
            while (!clock.idleTooLong()) {
                Execution execution = executions.findById(tenant, id).orElse(null);
                if (execution == null) {
                    return;   // deleted while followed
                }
                String json = new String(Json.bytes(execution), StandardCharsets.UTF_8);
                if (ended(execution)) {
                    sink.send("end", execution);
                    return;
                }
                if (!json.equals(last)) {
                    sink.send("progress", execution);
                    last = json;
                    clock.sent();
                } else if (clock.keepAliveDue()) {
                    sink.keepAlive();
                }
                Thread.sleep(POLL.toMillis());
            }
        });
    }

    private Response followLogs(Request request) {
        String tenant = request.tenant();
        String id = request.path("executionId");
        Level minLevel = request.query("minLevel").map(String::toUpperCase).map(Level::valueOf).orElse(null);
        return Response.events(sink -> {
            sink.send("start", LogEntry.builder().build());
            Set<LogEntry> sent = new HashSet<>();   // LogEntry is a value: equal fields, equal entries
            Clock clock = new Clock();
            while (!clock.idleTooLong()) {
                boolean any = false;
                for (LogEntry entry : logs.byExecution(tenant, id, minLevel)) {
                    // Seen or not by value: one stored late with an earlier timestamp is still sent.
                    if (sent.add(entry)) {
                        sink.send("progress", entry);
                        any = true;
                    }
                }
                if (any) {
                    clock.sent();
                } else if (clock.keepAliveDue()) {
                    sink.keepAlive();
                }
                Thread.sleep(POLL.toMillis());
            }
        });
    }

    private Optional<Execution> lookUp(String tenant, String id) throws InterruptedException {
        long deadline = System.nanoTime() + LOOKUP.toNanos();
        while (true) {
            Optional<Execution> found = executions.findById(tenant, id);
            if (found.isPresent() || System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(500);
        }
    }

    /** Kestra's isStopFollow: the execution has ended and so has each of its task runs. */
    static boolean ended(Execution execution) {
        List<TaskRun> taskRuns = execution.getTaskRunList();
        return execution.getState().isTerminated()
            && (taskRuns == null || taskRuns.stream().allMatch(run -> run.getState().isTerminated()));
    }

    /** When the stream last sent an event, and last wrote anything at all. */
    private static final class Clock {
        private long lastEvent = System.nanoTime();
        private long lastWrite = lastEvent;

        void sent() {
            lastEvent = System.nanoTime();
            lastWrite = lastEvent;
        }

        boolean keepAliveDue() {
            if (System.nanoTime() - lastWrite < KEEP_ALIVE.toNanos()) {
                return false;
            }
            lastWrite = System.nanoTime();
            return true;
        }

        boolean idleTooLong() {
            return System.nanoTime() - lastEvent > IDLE_LIMIT.toNanos();
        }
    }
}
