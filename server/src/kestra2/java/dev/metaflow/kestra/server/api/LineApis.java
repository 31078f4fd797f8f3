package dev.metaflow.kestra.server.api;

import io.micronaut.context.ApplicationContext;

/**
 * The API areas whose code differs between Kestra lines, for Kestra 2.x
 * (each line's source folder has its own). Kestra 2.x keeps task outputs out of the execution, behind an outputs API.
 */
final class LineApis {
    private LineApis() {
    }

    static void register(ApiServer api, ApplicationContext context) {
        new FlowApi(context).register(api);
        new ExecutionApi(context).register(api);
        new LogApi(context).register(api);
        new OutputApi(context).register(api);
    }
}
