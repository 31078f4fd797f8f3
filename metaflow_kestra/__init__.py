"""Run Metaflow flows on Kestra: compile, deploy, trigger and follow them.

This package is imported on Kestra workers too, so it imports nothing heavy at
module level.
"""

__version__ = "0.1.0.dev0"

# The Deployer API's classes, for `from metaflow_kestra import KestraDeployedFlow`: imported on
# first use (they import Metaflow), so a worker importing this package pays nothing for them.
_DEPLOYER_NAMES = {"KestraDeployedFlow": "kestra_deployer_objects", "KestraTriggeredRun": "kestra_deployer_objects",
                   "KestraDeployer": "kestra_deployer"}


def __getattr__(name):
    if name == "KestraDeployerError":
        from .errors import KestraDeployerError

        return KestraDeployerError
    if name in _DEPLOYER_NAMES:
        import importlib

        module = importlib.import_module("metaflow_extensions.kestra.plugins." + _DEPLOYER_NAMES[name])
        return getattr(module, name)
    raise AttributeError("module 'metaflow_kestra' has no attribute %r" % name)
