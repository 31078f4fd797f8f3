package io.kestra.plugin.scripts.python;

import dev.metaflow.kestra.server.tasks.CommandsTask;

import java.util.Map;

/**
 * Run commands with Python on PATH: Kestra's python.Commands task type,
 * without the official plugin's uv/pip manager (on the Process runner the
 * worker's own Python runs, so nothing is installed).
 */
public class Commands extends CommandsTask {
    public Commands() {
        super(PythonEnvironment.DEFAULT_IMAGE);
    }

    @Override
    protected Map<String, String> typeEnvironment() {
        return PythonEnvironment.variables();
    }
}
