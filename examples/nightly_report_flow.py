"""A scheduled flow: runs every night at 02:30 (Europe/Paris) once deployed.

    python examples/nightly_report_flow.py kestra create
"""

from datetime import datetime, timezone

from metaflow import FlowSpec, Parameter, schedule, step


@schedule(cron="30 2 * * *", timezone="Europe/Paris")
class NightlyReportFlow(FlowSpec):
    """Summarise yesterday's numbers."""

    threshold = Parameter("threshold", default=10, help="Values above this are reported")

    @step
    def start(self):
        self.values = [3, 14, 15, 9, 26]
        self.next(self.report)

    @step
    def report(self):
        self.flagged = [v for v in self.values if v > self.threshold]
        self.generated_at = datetime.now(timezone.utc).isoformat()
        self.next(self.end)

    @step
    def end(self):
        print("flagged %s" % self.flagged)


if __name__ == "__main__":
    NightlyReportFlow()
