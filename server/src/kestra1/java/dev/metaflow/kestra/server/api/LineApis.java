package dev.metaflow.kestra.server.api;

import io.micronaut.context.ApplicationContext;

/**
 * The API areas written once per Kestra line, for Kestra 1.x (each line's source
 * folder has its own); the shared areas take a line's adapters (LineFlows, LineLogs).
 * Kestra 1.x keeps task outputs in the execution, so it has no outputs API.
 */
final class LineApis {
    private LineApis() {
    }

    static void register(ApiServer api, ApplicationContext context) {
        new ExecutionApi(context).register(api);
    }
}
