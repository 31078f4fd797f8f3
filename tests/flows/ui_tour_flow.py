import time

from metaflow import FlowSpec, Parameter, card, current, retry, step


class UiTourFlow(FlowSpec):
    """Every view of the UI in one run: a split, a foreach, a switch, a retry, a card, printed lines."""

    rows = Parameter("rows", default=3, type=int, help="how many foreach items")
    mode = Parameter("mode", default="fast", help="which branch of the switch runs: fast or careful")
    pause = Parameter("pause", default=0.0, type=float, help="seconds each foreach item sleeps")

    @step
    def start(self):
        print("ui-tour: starting with %d rows" % self.rows)
        self.next(self.load, self.describe)

    @retry(times=1, minutes_between_retries=0)
    @step
    def load(self):
        if current.retry_count == 0:
            raise RuntimeError("the first attempt fails on purpose: the Gantt shows the retry")
        self.items = list(range(self.rows))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        time.sleep(self.pause)
        self.value = self.input * self.input
        print("ui-tour: item %d squared is %d" % (self.input, self.value))
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.merge)

    @step
    def describe(self):
        self.note = "a branch beside the foreach"
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.total = inputs.gather.total
        self.next(self.decide)

    @step
    def decide(self):
        self.choice = self.mode
        self.next({"fast": self.fast, "careful": self.careful}, condition="choice")

    @card
    @step
    def fast(self):
        from metaflow.cards import Markdown

        current.card.append(Markdown("# UI tour\n\nThe total is **%d**." % self.total))
        self.path = "fast"
        self.next(self.end)

    @step
    def careful(self):
        self.path = "careful"
        self.next(self.end)

    @step
    def end(self):
        print("ui-tour: total %d by the %s path" % (self.total, self.path))


if __name__ == "__main__":
    UiTourFlow()
