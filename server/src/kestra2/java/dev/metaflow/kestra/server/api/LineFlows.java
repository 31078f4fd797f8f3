package dev.metaflow.kestra.server.api;

import io.kestra.core.models.flows.Flow;
import io.kestra.core.models.flows.FlowWithSource;
import io.kestra.core.models.flows.GenericFlow;
import io.kestra.core.services.FlowParsingService;
import io.kestra.core.services.FlowService;
import io.micronaut.context.ApplicationContext;

/**
 * Kestra 2.x: writes go through FlowService, because the repository no longer feeds the
 * flow queue (FlowService also updates triggers, topology and concurrency); there are no
 * plugin defaults, so the graph parses the flow as it is.
 */
final class LineFlows implements FlowWrites {
    private final FlowService flowService;
    private final FlowParsingService parsing;

    LineFlows(ApplicationContext context) {
        this.flowService = context.getBean(FlowService.class);
        this.parsing = context.getBean(FlowParsingService.class);
    }

    @Override
    public FlowWithSource create(GenericFlow flow) throws Exception {
        return flowService.create(flow);
    }

    @Override
    public FlowWithSource update(GenericFlow flow, FlowWithSource existing) throws Exception {
        return flowService.update(flow, existing);
    }

    @Override
    public void delete(FlowWithSource existing) {
        flowService.delete(existing);
    }

    @Override
    public Flow withDefaults(FlowWithSource flow) throws Exception {
        return parsing.parse(flow, false);
    }
}
