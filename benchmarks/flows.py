"""Benchmark workloads, written out as standalone flow files.

Each flow has one Parameter (`seed`): the alternative package fails every flow
without one (its scripts read `inputs`, which it emits only when there is one),
and both packages must run the same flows.
"""

from pathlib import Path

_HEADER = ("from metaflow import FlowSpec, Parameter, step\n\n\nclass {name}(FlowSpec):\n"
           "    seed = Parameter(\"seed\", default=1, help=\"Unused: the alternative needs a Parameter\")\n\n")
_FOOTER = "\n\nif __name__ == \"__main__\":\n    {name}()\n"


def _flow(name, body):
    return name, _HEADER.format(name=name) + body.rstrip() + _FOOTER.format(name=name)


def linear_flow(steps):
    """A chain of `steps` steps (start and end included), each storing one artifact."""
    names = ["start"] + ["s%03d" % i for i in range(1, steps - 1)] + ["end"]
    body = []
    for current, following in zip(names, names[1:] + [None]):
        body.append("    @step\n    def %s(self):\n        self.%s_done = True\n" % (current, current))
        if following:
            body.append("        self.next(self.%s)\n" % following)
        body.append("\n")
    return _flow("Linear%dFlow" % steps, "".join(body))


def linear_tasks(steps):
    return steps


def foreach_flow(width):
    """start -> `width` items -> join (with `width` parents) -> end."""
    return _flow("Foreach%dFlow" % width, (
        "    @step\n    def start(self):\n        self.items = list(range(%d))\n"
        "        self.next(self.work, foreach=\"items\")\n\n"
        "    @step\n    def work(self):\n        self.value = self.input * 2\n        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n        self.total = sum(i.value for i in inputs)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n" % width
    ))


def foreach_tasks(width):
    return width + 3


def nested_foreach_flow(widths):
    """Foreach within foreach within foreach (`widths` items at each level), joined level by level."""
    a, b, c = widths
    return _flow("Nested%dx%dx%dFlow" % (a, b, c), (
        "    @step\n    def start(self):\n        self.a_items = list(range(%d))\n"
        "        self.next(self.level_a, foreach=\"a_items\")\n\n"
        "    @step\n    def level_a(self):\n        self.b_items = list(range(%d))\n"
        "        self.next(self.level_b, foreach=\"b_items\")\n\n"
        "    @step\n    def level_b(self):\n        self.c_items = list(range(%d))\n"
        "        self.next(self.level_c, foreach=\"c_items\")\n\n"
        "    @step\n    def level_c(self):\n        self.value = self.input\n        self.next(self.join_c)\n\n"
        "    @step\n    def join_c(self, inputs):\n        self.value = sum(i.value for i in inputs)\n"
        "        self.next(self.join_b)\n\n"
        "    @step\n    def join_b(self, inputs):\n        self.value = sum(i.value for i in inputs)\n"
        "        self.next(self.join_a)\n\n"
        "    @step\n    def join_a(self, inputs):\n        self.total = sum(i.value for i in inputs)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n" % (a, b, c)
    ))


def nested_foreach_tasks(widths):
    a, b, c = widths
    # start, a x level_a, a*b x level_b, a*b*c x level_c, a*b x join_c, a x join_b, join_a, end
    return 1 + a + a * b + a * b * c + a * b + a + 1 + 1


def write(directory, flow):
    name, source = flow
    path = Path(directory) / ("%s.py" % name.lower())
    path.write_text(source)
    return name, path
