"""The order systems run in: interleaved and rotated, so that a machine slowing down (or a
server warming up) during a run weighs on every system alike, and none always runs last."""


def round_robin(systems, repeat):
    """One list per repeat, every system once in each; repeat i starts i places further on.

    round_robin(["a", "b", "c"], 3) == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    """
    systems = list(systems)
    if not systems:
        return [[] for _ in range(repeat)]
    return [systems[i % len(systems):] + systems[:i % len(systems)] for i in range(repeat)]
