package dev.metaflow.kestra.server.api;

import io.micronaut.context.ApplicationContext;

/**
 * The API areas only one Kestra line has (each line's source folder has its own
 * LineApis). Kestra 2.x keeps task outputs out of the execution, behind an outputs API.
 */
final class LineApis {
    private LineApis() {
    }

    static void register(ApiServer api, ApplicationContext context) {
        new OutputApi(context).register(api);
    }
}
