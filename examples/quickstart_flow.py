"""A small training-style pipeline: load, fan out over settings, pick the best.

Run it locally with `python examples/quickstart_flow.py run`, or on Kestra with
`python examples/quickstart_flow.py kestra run --wait`.
"""

from metaflow import FlowSpec, Parameter, step


class QuickstartFlow(FlowSpec):
    """Score a few settings in parallel and keep the best one."""

    scale = Parameter("scale", default=3, help="Multiplier applied to every score")
    label = Parameter("label", default="quickstart", help="Free text stored with the result")

    @step
    def start(self):
        """Prepare the data and the settings to try."""
        self.data = list(range(1, 11))
        self.settings = [0.5, 1.0, 2.0]
        self.next(self.summary, self.score_all)

    @step
    def summary(self):
        """One branch: describe the data."""
        self.mean = sum(self.data) / len(self.data)
        self.next(self.report)

    @step
    def score_all(self):
        """The other branch: fan out over the settings."""
        self.next(self.score, foreach="settings")

    @step
    def score(self):
        """Score one setting (runs once per setting, concurrently)."""
        self.setting = self.input
        self.score_value = sum(x * self.setting for x in self.data) * self.scale
        self.next(self.pick)

    @step
    def pick(self, inputs):
        """Keep the best setting."""
        best = max(inputs, key=lambda i: i.score_value)
        self.best_setting, self.best_score = best.setting, best.score_value
        self.next(self.report)

    @step
    def report(self, inputs):
        """Bring both branches together."""
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        """Print where to find the result."""
        print("%s: best setting %s scores %s (data mean %s)"
              % (self.label, self.best_setting, self.best_score, self.mean))


if __name__ == "__main__":
    QuickstartFlow()
