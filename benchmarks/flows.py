"""Benchmark workloads, written out as standalone flow files."""

from pathlib import Path

_HEADER = "from metaflow import FlowSpec, step\n\n\nclass {name}(FlowSpec):\n"
_FOOTER = "\n\nif __name__ == \"__main__\":\n    {name}()\n"


def linear_flow(steps):
    """A chain of `steps` steps (start and end included), each storing one artifact."""
    names = ["start"] + ["s%03d" % i for i in range(1, steps - 1)] + ["end"]
    name = "Linear%dFlow" % steps
    body = []
    for current, following in zip(names, names[1:] + [None]):
        body.append("    @step\n    def %s(self):\n        self.%s_done = True\n" % (current, current))
        if following:
            body.append("        self.next(self.%s)\n" % following)
        body.append("\n")
    return name, _HEADER.format(name=name) + "".join(body).rstrip() + _FOOTER.format(name=name)


def foreach_flow(width):
    name = "Foreach%dFlow" % width
    body = (
        "    @step\n    def start(self):\n        self.items = list(range(%d))\n"
        "        self.next(self.work, foreach=\"items\")\n\n"
        "    @step\n    def work(self):\n        self.value = self.input * 2\n        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n        self.total = sum(i.value for i in inputs)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass" % width
    )
    return name, _HEADER.format(name=name) + body + _FOOTER.format(name=name)


def write(directory, flow):
    name, source = flow
    path = Path(directory) / ("%s.py" % name.lower())
    path.write_text(source)
    return name, path
