"""How long a step process spends importing Metaflow: the cost a warm task start saves.

    python benchmarks/import_time.py [--runs 15]

Times `python -c "import metaflow"` against `python -c "pass"` in fresh interpreters (this one's
executable), and prints the medians and their difference.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def seconds(code, runs):
    env = dict(os.environ, METAFLOW_USER=os.environ.get("METAFLOW_USER") or "bench")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare, metaflow = seconds("pass", runs), seconds("import metaflow", runs)
    print("| interpreter start | min / median / max (s) |")
    print("|---|---|")
    for label, times in (("`python -c pass`", bare), ("`python -c 'import metaflow'`", metaflow)):
        print("| %s | %.3f / %.3f / %.3f |" % (label, min(times), statistics.median(times), max(times)))
    print("\nimport metaflow: %.2f s (median difference, %d runs each)"
          % (statistics.median(metaflow) - statistics.median(bare), runs))


if __name__ == "__main__":
    main()
