package dev.metaflow.kestra.server.api;

import io.kestra.core.models.flows.Flow;
import io.kestra.core.models.flows.FlowWithSource;
import io.kestra.core.models.flows.GenericFlow;
import io.kestra.core.repositories.FlowRepositoryInterface;
import io.kestra.core.services.FlowService;
import io.kestra.core.services.PluginDefaultService;
import io.micronaut.context.ApplicationContext;

/** Kestra 1.x: the flow repository feeds the flow queue itself; the graph injects plugin defaults. */
final class LineFlows implements FlowWrites {
    private final FlowRepositoryInterface flows;
    private final FlowService flowService;
    private final PluginDefaultService pluginDefaults;

    LineFlows(ApplicationContext context) {
        this.flows = context.getBean(FlowRepositoryInterface.class);
        this.flowService = context.getBean(FlowService.class);
        this.pluginDefaults = context.getBean(PluginDefaultService.class);
    }

    @Override
    public FlowWithSource create(GenericFlow flow) throws Exception {
        return flowService.create(flow, true);
    }

    @Override
    public FlowWithSource update(GenericFlow flow, FlowWithSource existing) throws Exception {
        return flows.update(flow, existing);
    }

    @Override
    public void delete(FlowWithSource existing) {
        flows.delete(existing);
    }

    @Override
    public Flow withDefaults(FlowWithSource flow) throws Exception {
        return pluginDefaults.injectAllDefaults(flow, false);
    }
}
