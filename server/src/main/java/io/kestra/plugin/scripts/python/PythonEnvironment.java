package io.kestra.plugin.scripts.python;

import java.util.Map;

/** The environment Kestra's Python tasks add: unbuffered output and a quiet pip. */
final class PythonEnvironment {
    static final String DEFAULT_IMAGE = "python:3.13-slim";

    private PythonEnvironment() {
    }

    static Map<String, String> variables() {
        return Map.of(
            "PYTHONUNBUFFERED", "true",
            "PIP_ROOT_USER_ACTION", "ignore",
            "PIP_DISABLE_PIP_VERSION_CHECK", "1"
        );
    }
}
