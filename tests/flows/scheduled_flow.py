from metaflow import FlowSpec, schedule, step


@schedule(cron="*/5 * * * ? *", timezone="Europe/Paris")
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
