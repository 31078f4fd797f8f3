package io.kestra.plugin.scripts.python;

import io.kestra.core.models.property.Property;
import io.kestra.core.models.tasks.RunnableTask;
import io.kestra.core.models.tasks.runners.TargetOS;
import io.kestra.core.runners.FilesService;
import io.kestra.core.runners.RunContext;
import io.kestra.plugin.core.runner.Process;
import io.kestra.plugin.scripts.exec.AbstractExecScript;
import io.kestra.plugin.scripts.exec.scripts.models.ScriptOutput;
import io.kestra.plugin.scripts.exec.scripts.runners.CommandsWrapper;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Run an inline Python script: Kestra's python.Script task type. As in
 * kestra-io/plugin-scripts, the script is rendered, written to a .py file in
 * the task's working directory as an input file, and run with {@code python}.
 */
public class Script extends AbstractExecScript implements RunnableTask<ScriptOutput> {
    private Property<String> containerImage = Property.ofValue(PythonEnvironment.DEFAULT_IMAGE);
    private Property<String> script;

    public Script() {
        super();
        this.taskRunner = Process.instance();
    }

    @Override
    public Property<String> getContainerImage() {
        return containerImage;
    }

    public Property<String> getScript() {
        return script;
    }

    @Override
    public ScriptOutput run(RunContext runContext) throws Exception {
        if (script == null) {
            throw new IllegalArgumentException("Task '" + getId() + "': the property 'script' is required");
        }
        CommandsWrapper commands = this.commands(runContext);
        Map<String, String> inputFiles = FilesService.inputFiles(
            runContext, commands.getTaskRunner().additionalVars(runContext, commands), this.getInputFiles());
        Path relative = runContext.workingDir().path().relativize(runContext.workingDir().createTempFile(".py"));
        inputFiles.put(relative.toString(), commands.render(runContext, this.script));
        TargetOS os = runContext.render(this.targetOS).as(TargetOS.class).orElse(null);
        String file = commands.getTaskRunner().toAbsolutePath(runContext, commands, relative.toString(), os);
        return commands.withInputFiles(inputFiles)
            .addEnv(new HashMap<>(PythonEnvironment.variables()))
            .withInterpreter(this.interpreter)
            .withBeforeCommands(this.beforeCommands)
            .withBeforeCommandsWithOptions(true)
            .withCommands(Property.ofValue(List.of("python " + file)))
            .withTargetOS(os)
            .run();
    }
}
