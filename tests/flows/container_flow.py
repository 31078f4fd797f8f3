import os

from metaflow import FlowSpec, Parameter, kubernetes, resources, step


def cgroup_limits():
    """(CPUs, memory in MiB) the container may use, as its cgroup (v1 or v2) enforces them; None for no limit."""
    def read(*paths):
        for path in paths:
            try:
                with open(path) as handle:
                    return handle.read().split()
            except OSError:
                continue
        return None

    cpus = None
    v2 = read("/sys/fs/cgroup/cpu.max")
    v1 = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us")
    period = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us")
    if v2 and v2[0] != "max":
        cpus = int(v2[0]) / int(v2[1])
    elif v1 and period and int(v1[0]) > 0:
        cpus = int(v1[0]) / int(period[0])
    memory = read("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    limit = None if not memory or memory[0] == "max" or int(memory[0]) >= 1 << 60 else int(memory[0]) // (1 << 20)
    return cpus, limit


class ContainerFlow(FlowSpec):
    """What a step sees in its container: the limits its decorators set, and none of the deploying machine."""

    host_file = Parameter("host_file", default="", help="A file of the deploying machine's")

    @resources(cpu=1, memory=1024)
    @step
    def start(self):
        self.cpus, self.memory_mb = cgroup_limits()
        self.sees_host_file = bool(self.host_file) and os.path.exists(self.host_file)
        self.flow_dir = os.path.dirname(os.path.abspath(__file__))
        print("start sees %s CPUs and %s MiB" % (self.cpus, self.memory_mb))
        self.next(self.sized)

    @kubernetes(cpu=2, memory=1536)
    @step
    def sized(self):
        self.cpus, self.memory_mb = cgroup_limits()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ContainerFlow()
