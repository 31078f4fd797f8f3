import os

from metaflow import Config, FlowSpec, card, catch, current, environment, retry, secrets, step


class DecoratedFlow(FlowSpec):
    """Step decorators whose meaning must survive the trip to Kestra."""

    settings = Config("settings", default_value={"threshold": 7, "name": "{{ not pebble }}"})

    @retry(times=2, minutes_between_retries=0)
    @step
    def start(self):
        if current.retry_count == 0:
            raise RuntimeError("flaky on the first attempt")
        self.attempt = current.retry_count
        self.threshold = self.settings.threshold
        self.next(self.risky)

    @catch(var="problem")
    @step
    def risky(self):
        raise ValueError("caught, not fatal")
        self.next(self.configured)  # never reached

    @environment(vars={"GREETING": "hello {{ world }} {% raw %}"})
    @secrets(sources=["kestra.MF_TEST_TOKEN"])
    @card
    @step
    def configured(self):
        self.greeting = os.environ["GREETING"]
        self.token_length = len(os.environ["MF_TEST_TOKEN"])
        self.next(self.end)

    @step
    def end(self):
        self.problem_text = str(self.problem) if getattr(self, "problem", None) else None


if __name__ == "__main__":
    DecoratedFlow()
