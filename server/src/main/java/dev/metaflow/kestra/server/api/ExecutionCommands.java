package dev.metaflow.kestra.server.api;

import io.kestra.core.models.Label;
import io.kestra.core.models.executions.Execution;
import io.kestra.core.models.flows.Flow;

import java.util.List;

/**
 * How a Kestra line changes executions: Kestra 1.x emits executions on its queues,
 * 2.x sends commands to its executor and waits for them to be applied. The
 * executions API is written once (ExecutionApi) over each line's LineExecutions.
 */
interface ExecutionCommands {
    /** Start `draft` (built and validated from the request) and return it as stored. */
    Execution create(Flow flow, Execution draft, List<Label> labels) throws Exception;

    /** Put a kill request on the line's kill queue (the executor cascades it to Loop items). */
    void kill(String tenant, String executionId, boolean cascade) throws Exception;

    /**
     * Kestra 2.x's {@code actions/kill}: the kill as an operation the executor applies, and the
     * execution once it has (the answer's body). Never called on 1.x, which has no such path.
     */
    Execution killAndWait(String tenant, String executionId, boolean cascade) throws Exception;

    /** Kestra's Restart: the failed task runs of the same execution run again. */
    Execution restart(Execution execution, Integer revision) throws Exception;

    /** Pause a running execution: running task runs finish, no new one starts (the answer's body, or null). */
    Execution pause(Execution execution) throws Exception;

    /** Resume an execution paused by hand: it runs on from where it stopped (the answer's body, or null). */
    Execution resume(Execution execution, Flow flow) throws Exception;

    /** Replace the execution's labels (system labels included in `labels`). */
    Execution setLabels(Execution execution, List<Label> labels) throws Exception;

    /** Where the line's web server puts kill, restart and labels: "" in 1.x, "actions/" too in 2.x. */
    List<String> actionPrefixes();
}
