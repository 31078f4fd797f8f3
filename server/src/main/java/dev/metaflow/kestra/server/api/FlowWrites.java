package dev.metaflow.kestra.server.api;

import io.kestra.core.models.flows.Flow;
import io.kestra.core.models.flows.FlowWithSource;
import io.kestra.core.models.flows.GenericFlow;

/**
 * What the flows API does differently on each Kestra line ({@code LineFlows}): how a
 * flow is saved or deleted so that the executor and scheduler see the change, and how
 * the graph gets the flow with its defaults applied.
 */
interface FlowWrites {
    FlowWithSource create(GenericFlow flow) throws Exception;

    FlowWithSource update(GenericFlow flow, FlowWithSource existing) throws Exception;

    void delete(FlowWithSource existing);

    Flow withDefaults(FlowWithSource flow) throws Exception;
}
