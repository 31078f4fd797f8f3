package dev.metaflow.kestra.server.tasks;

import io.kestra.core.models.property.Property;
import io.kestra.core.models.tasks.RunnableTask;
import io.kestra.core.models.tasks.runners.TargetOS;
import io.kestra.core.runners.RunContext;
import io.kestra.plugin.core.runner.Process;
import io.kestra.plugin.scripts.exec.AbstractExecScript;
import io.kestra.plugin.scripts.exec.scripts.models.ScriptOutput;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What Kestra's shell and python {@code Commands} tasks share, as
 * kestra-io/plugin-scripts v1.9.8 runs them: the interpreter ({@code /bin/sh -c}),
 * {@code set -e} before the commands, each command rendered once (by
 * CommandsWrapper), outputs read from {@code ::{...}::} lines.
 */
public abstract class CommandsTask extends AbstractExecScript implements RunnableTask<ScriptOutput> {
    private Property<String> containerImage;
    private Property<List<String>> commands;

    protected CommandsTask(String defaultImage) {
        super();
        // Kestra 2.0 has no plugin defaults and AbstractExecScript defaults taskRunner to Docker:
        // the local server's script tasks default to Process (a flow's own taskRunner still wins).
        this.taskRunner = Process.instance();
        this.containerImage = Property.ofValue(defaultImage);
    }

    @Override
    public Property<String> getContainerImage() {
        return containerImage;
    }

    public Property<List<String>> getCommands() {
        return commands;
    }

    /** Variables the task type adds to the process environment. */
    protected Map<String, String> typeEnvironment() {
        return Map.of();
    }

    @Override
    public ScriptOutput run(RunContext runContext) throws Exception {
        if (commands == null) {
            throw new IllegalArgumentException("Task '" + getId() + "': the property 'commands' is required");
        }
        TargetOS os = runContext.render(this.targetOS).as(TargetOS.class).orElse(null);
        return this.commands(runContext)
            .addEnv(new HashMap<>(typeEnvironment()))
            .withInterpreter(this.interpreter)
            .withBeforeCommands(this.beforeCommands)
            .withBeforeCommandsWithOptions(true)
            .withCommands(this.commands)
            .withTargetOS(os)
            .run();
    }
}
