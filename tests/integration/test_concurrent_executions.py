"""Twenty executions of one deployment at once: distinct runs, nothing overwritten (stand-in engine)."""

from concurrent.futures import ThreadPoolExecutor

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

EXECUTIONS = 20


def test_twenty_concurrent_executions_keep_their_own_runs(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    text = workspace.compile("params_flow")

    def execute(i):
        engine = StandinEngine(text, "par%02d" % i, inputs={"needed": "value-%d" % i}, environ=workspace.env)
        return engine.run(), "\n".join(engine.logs)

    with ThreadPoolExecutor(max_workers=EXECUTIONS) as pool:
        results = list(pool.map(execute, range(EXECUTIONS)))
    assert [state for state, _ in results] == ["SUCCESS"] * EXECUTIONS, results[0][1]
    for i in range(EXECUTIONS):
        run = workspace.artifacts("ParamsFlow", "kestra-par%02d" % i)
        assert run["successful"]
        assert "'needed': 'value-%d'" % i in dict(run["steps"]["start"][0])["seen"]
