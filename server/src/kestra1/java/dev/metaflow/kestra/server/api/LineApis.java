package dev.metaflow.kestra.server.api;

import io.micronaut.context.ApplicationContext;

/**
 * The API areas whose code differs between Kestra lines, for Kestra 1.x
 * (each line's source folder has its own). Kestra 1.x keeps task outputs in the execution, so it has no outputs API.
 */
final class LineApis {
    private LineApis() {
    }

    static void register(ApiServer api, ApplicationContext context) {
        new FlowApi(context).register(api);
        new ExecutionApi(context).register(api);
        new LogApi(context).register(api);
    }
}
