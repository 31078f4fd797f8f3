"""The systems and workloads the benchmark compares, named once so that measuring and
rendering agree on them (and the page keeps their order)."""

from dataclasses import dataclass, field

from benchmarks import flows

LOCAL, OURS, OURS_SUB, ALT = "local", "ours", "ours, --foreach subflows", "alternative"
SYSTEMS = (LOCAL, OURS, OURS_SUB, ALT)
FOREACH_FAMILIES = ("foreach", "nested")  # where `--foreach subflows` differs from the default
# benchmarks/foreach_modes.py: a foreach deployed with no option, and with each mode forced.
MODES = ("default", "--foreach inline", "--foreach subflows")
DEFAULT_MODE = MODES[0]


@dataclass
class Workload:
    name: str
    flow: tuple
    tasks: int
    large: bool = False
    family: str = ""  # a system wrong on one workload of a family is not run on its larger ones
    skip: dict = field(default_factory=dict)  # {system: why it is not run on this workload}
    min_repeat: int = 1  # at least this many runs: a short workload's spread needs more of them


INLINE_AT_SCALE = ("an in-flow ForEach costs Kestra 1.3 time quadratic in its items (benchmarks/fanout.py: "
                   "1,000 trivial items took 434 s, against 43 s as ForEachItem); this is what "
                   "--foreach subflows is for")

SMALL_FLOW = "3-step flow (small)"

WORKLOADS = [
    # What a user feels on every iteration of development (issue 30): `run --wait` from the command
    # to the exit, on a warm server, against the local run of the same flow.
    Workload(SMALL_FLOW, flows.linear_flow(3), flows.linear_tasks(3), family="small", min_repeat=5),
    Workload("10-step linear", flows.linear_flow(10), flows.linear_tasks(10), family="linear"),
    Workload("100-way foreach", flows.foreach_flow(100), flows.foreach_tasks(100), family="foreach"),
    Workload("3-level nested foreach (4x4x4)", flows.nested_foreach_flow((4, 4, 4)),
             flows.nested_foreach_tasks((4, 4, 4)), family="nested"),
    Workload("200-step linear", flows.linear_flow(200), flows.linear_tasks(200), large=True, family="linear"),
    Workload("1,000-way foreach", flows.foreach_flow(1000), flows.foreach_tasks(1000), large=True,
             family="foreach", skip={OURS: INLINE_AT_SCALE}),
    Workload("10,000-parent join", flows.foreach_flow(10000), flows.foreach_tasks(10000), large=True,
             family="foreach", skip={OURS: INLINE_AT_SCALE}),
]
