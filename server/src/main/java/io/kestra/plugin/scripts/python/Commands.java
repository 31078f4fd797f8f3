package io.kestra.plugin.scripts.python;

import io.kestra.core.models.property.Property;
import io.kestra.core.models.tasks.RunnableTask;
import io.kestra.core.models.tasks.runners.TargetOS;
import io.kestra.core.runners.RunContext;
import io.kestra.plugin.scripts.exec.AbstractExecScript;
import io.kestra.plugin.scripts.exec.scripts.models.ScriptOutput;

import java.util.HashMap;
import java.util.List;

/**
 * Run commands with Python on PATH: Kestra's python.Commands task type, as
 * kestra-io/plugin-scripts v1.9.8 runs it without its uv/pip manager (on the
 * Process runner the worker's own Python is used, so nothing is installed).
 */
public class Commands extends AbstractExecScript implements RunnableTask<ScriptOutput> {
    private Property<String> containerImage = Property.ofValue(PythonEnvironment.DEFAULT_IMAGE);
    private Property<List<String>> commands;

    public Commands() {
        super();
    }

    @Override
    public Property<String> getContainerImage() {
        return containerImage;
    }

    public Property<List<String>> getCommands() {
        return commands;
    }

    @Override
    public ScriptOutput run(RunContext runContext) throws Exception {
        if (commands == null) {
            throw new IllegalArgumentException("Task '" + getId() + "': the property 'commands' is required");
        }
        TargetOS os = runContext.render(this.targetOS).as(TargetOS.class).orElse(null);
        return this.commands(runContext)
            .addEnv(new HashMap<>(PythonEnvironment.variables()))
            .withInterpreter(this.interpreter)
            .withBeforeCommands(this.beforeCommands)
            .withBeforeCommandsWithOptions(true)
            .withCommands(this.commands)
            .withTargetOS(os)
            .run();
    }
}
