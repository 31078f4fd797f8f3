package io.kestra.plugin.scripts.shell;

import io.kestra.core.models.property.Property;
import io.kestra.core.models.tasks.RunnableTask;
import io.kestra.core.models.tasks.runners.TargetOS;
import io.kestra.core.runners.RunContext;
import io.kestra.plugin.scripts.exec.AbstractExecScript;
import io.kestra.plugin.scripts.exec.scripts.models.ScriptOutput;

import java.util.List;

/**
 * Run shell commands: the task type of Kestra's shell script plugin, which
 * every Kestra distribution ships and Maven Central does not serve. Written
 * for this project to behave as kestra-io/plugin-scripts v1.9.8 does:
 * interpreter {@code /bin/sh -c}, {@code set -e} before the commands, each
 * command rendered once, outputs read from {@code ::{...}::} lines.
 */
public class Commands extends AbstractExecScript implements RunnableTask<ScriptOutput> {
    private Property<String> containerImage = Property.ofValue("ubuntu");
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
            .withInterpreter(this.interpreter)
            .withBeforeCommands(this.beforeCommands)
            .withBeforeCommandsWithOptions(true)
            .withCommands(this.commands)
            .withTargetOS(os)
            .run();
    }
}
