package dev.metaflow.kestra.server.api;

import io.kestra.core.models.flows.FlowWithSource;
import io.kestra.core.models.flows.GenericFlow;
import io.kestra.core.models.hierarchies.FlowGraph;
import io.kestra.core.repositories.FlowRepositoryInterface;
import io.kestra.core.utils.GraphUtils;
import io.micronaut.context.ApplicationContext;

import java.util.Optional;

/** Flows: create, update, get, delete, search and the topology graph, as Kestra's FlowController. */
final class FlowApi {
    private final FlowRepositoryInterface flows;
    private final FlowWrites writes;

    FlowApi(ApplicationContext context, FlowWrites writes) {
        this.flows = context.getBean(FlowRepositoryInterface.class);
        this.writes = writes;
    }

    void register(ApiServer api) {
        String base = "/api/v1/{tenant}/flows";
        api.add("POST", base, this::create);
        api.add("GET", base + "/search", this::search);
        api.add("GET", base + "/{namespace}/{id}", this::get);
        api.add("PUT", base + "/{namespace}/{id}", this::update);
        api.add("DELETE", base + "/{namespace}/{id}", this::delete);
        api.add("GET", base + "/{namespace}/{id}/graph", this::graph);
    }

    private FlowWithSource create(Request request) throws Exception {
        GenericFlow flow = GenericFlow.fromYaml(request.tenant(), request.bodyText());
        if (flows.findById(request.tenant(), flow.getNamespace(), flow.getId()).isPresent()) {
            throw new ApiException(422, "Invalid entity: flow.id: Flow id already exists");
        }
        return writes.create(flow);
    }

    private FlowWithSource update(Request request) throws Exception {
        FlowWithSource existing = existing(request);
        GenericFlow flow = GenericFlow.fromYaml(request.tenant(), request.bodyText());
        if (!existing.getNamespace().equals(flow.getNamespace()) || !existing.getId().equals(flow.getId())) {
            throw ApiException.illegalArgument("Flow id or namespace cannot be changed: the body declares "
                + flow.getNamespace() + "." + flow.getId() + " for " + existing.getNamespace() + "." + existing.getId());
        }
        return writes.update(flow, existing);
    }

    private Object get(Request request) {
        FlowWithSource flow = existing(request);
        boolean withSource = request.query("source").map(Boolean::parseBoolean).orElse(false);
        return withSource ? flow : flow.toFlow();
    }

    private Response delete(Request request) {
        writes.delete(existing(request));
        return Response.noContent();
    }

    private Object search(Request request) {
        return Paged.results(flows.find(Paged.pageable(request, 10), request.tenant(), QueryFilters.flows(request)));
    }

    private FlowGraph graph(Request request) throws Exception {
        return GraphUtils.flowGraph(writes.withDefaults(existing(request)), null);
    }

    private FlowWithSource existing(Request request) {
        Optional<Integer> revision = request.query("revision").map(Integer::parseInt);
        return flows.findByIdWithSource(request.tenant(), request.path("namespace"), request.path("id"), revision)
            .orElseThrow(() -> new ApiException(404, "Not Found"));
    }
}
