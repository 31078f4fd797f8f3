from collections import namedtuple

from metaflow import FlowSpec, step

Point = namedtuple("Point", "x y")


class Box:
    """A class defined in the flow file: pickled as __main__.Box, as in a local run."""

    def __init__(self, size):
        self.size = size

    def __repr__(self):
        return "Box(%d)" % self.size


class CustomClassFlow(FlowSpec):
    @step
    def start(self):
        self.boxes = [Box(1), Box(2)]
        self.next(self.grow, foreach="boxes")

    @step
    def grow(self):
        self.bigger = Box(self.input.size * 10)
        self.point = Point(self.input.size, 0)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.sizes = sorted(i.bigger.size for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CustomClassFlow()
