from metaflow import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.rows = ["a", "b"]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.row_name = self.input
        self.cols = [1, 2, 3]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.label = "%s%d" % (self.row_name, self.input)
        self.next(self.join_cols)

    @step
    def join_cols(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.join_rows)

    @step
    def join_rows(self, inputs):
        self.all_labels = sorted(l for i in inputs for l in i.labels)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedForeachFlow()
