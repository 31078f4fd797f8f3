from metaflow import FlowSpec, current, project, step


@project(name="demo")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.branch = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectFlow()
