"""What the end-to-end tests run: every graph shape, and a parameter value hostile to every layer."""

# (sample flow, flow class, [(parameter, value)]) -- each compared with a local run of the same.
SHAPES = [
    ("linear_flow", "LinearFlow", []),
    ("split_flow", "SplitFlow", []),
    ("foreach_flow", "ForeachFlow", []),
    ("nested_foreach_flow", "NestedForeachFlow", []),
    ("deep_foreach_flow", "DeepForeachFlow", []),
    ("split_in_foreach_flow", "SplitInForeachFlow", []),
    ("foreach_in_split_flow", "ForeachInSplitFlow", []),
    ("switch_flow", "SwitchFlow", []),
    ("switch_flow", "SwitchFlow", [("level", "low")]),
    ("switch_skip_flow", "SwitchSkipFlow", []),
    ("switch_skip_flow", "SwitchSkipFlow", [("mode", "careful")]),
    ("switch_in_foreach_flow", "SwitchInForeachFlow", []),
    ("recursive_flow", "RecursiveFlow", []),
    ("custom_class_flow", "CustomClassFlow", []),
    # Start and end steps the flow names itself, in each shape, and one step that is both.
    ("named_ends_flow", "NamedEndsFlow", [("size", "5")]),
    ("named_ends_split_flow", "NamedEndsSplitFlow", []),
    ("named_ends_foreach_flow", "NamedEndsForeachFlow", []),
    ("named_ends_switch_flow", "NamedEndsSwitchFlow", [("level", "low")]),
    ("single_step_flow", "SingleStepFlow", [("greeting", "hi")]),
    ("quickstart_flow", "QuickstartFlow", [("scale", "5"), ("label", "{{ not a template }}")]),
]

# Quotes of every kind, a backslash, a newline, Pebble syntax and non-ASCII in one value.
TRICKY = "it's \"quoted\" '''triple''' back\\slash\nnew line {{ execution.id }} {% if x %}{# c #} ✓"
