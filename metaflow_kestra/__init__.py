"""Run Metaflow flows on Kestra: compile, deploy, trigger and follow them.

This package is imported on Kestra workers too, so it imports nothing heavy at
module level.
"""

__version__ = "0.1.0.dev0"
