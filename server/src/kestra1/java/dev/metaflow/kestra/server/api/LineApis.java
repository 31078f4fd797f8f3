package dev.metaflow.kestra.server.api;

import io.micronaut.context.ApplicationContext;

/**
 * The API areas only one Kestra line has (each line's source folder has its own
 * LineApis). Kestra 1.x has none: it keeps task outputs in the execution.
 */
final class LineApis {
    private LineApis() {
    }

    static void register(ApiServer api, ApplicationContext context) {
    }
}
