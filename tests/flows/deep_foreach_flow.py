from metaflow import FlowSpec, step


class DeepForeachFlow(FlowSpec):
    """Foreaches three deep: on Kestra 2 each leaf runs in a Loop item of a Loop item of a Loop item.

    A leaf finds its inputs only if it runs in the same Metaflow run as `start`: on Kestra 2 its
    execution id comes down through the outputs of `a` and `b` (docs/kestra-2.0/README.md).
    """

    @step
    def start(self):
        self.xs = [0, 1]
        self.next(self.a, foreach="xs")

    @step
    def a(self):
        self.path = [self.input]
        self.ys = ["p", "q"]
        self.next(self.b, foreach="ys")

    @step
    def b(self):
        self.path = self.path + [self.input]
        self.zs = [7, 8]
        self.next(self.c, foreach="zs")

    @step
    def c(self):
        self.path = self.path + [self.input]
        self.next(self.join_c)

    @step
    def join_c(self, inputs):
        self.paths = [i.path for i in inputs]
        self.next(self.join_b)

    @step
    def join_b(self, inputs):
        self.paths = [p for i in inputs for p in i.paths]
        self.next(self.join_a)

    @step
    def join_a(self, inputs):
        self.paths = sorted(p for i in inputs for p in i.paths)
        self.next(self.end)

    @step
    def end(self):
        assert len(self.paths) == 8


if __name__ == "__main__":
    DeepForeachFlow()
