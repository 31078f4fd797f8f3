package io.kestra.plugin.scripts.shell;

import dev.metaflow.kestra.server.tasks.CommandsTask;

/**
 * Run shell commands: the task type of Kestra's shell script plugin, which
 * every Kestra distribution ships and Maven Central does not serve.
 */
public class Commands extends CommandsTask {
    public Commands() {
        super("ubuntu");
    }
}
