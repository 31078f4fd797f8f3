"""The web UI's costs: server start with the UI (cold, then warm), the page's weight at first load,
and the time to first render of the topology of a 100-step flow, in Debian's Chromium.

    python benchmarks/ui.py [--kestra-version V] [--repeat 5] [--steps 100]

Cold: a fresh METAFLOW_KESTRA_HOME, so `server start` builds the Java server and the UI (Maven's
and npm's own caches, ~/.m2 and ~/.npm, stay as they are on this machine: say so when quoting).
Warm: `server stop`, then `server start` again. Runs on port 18580 and prints a table; the JSON
goes to benchmarks/results/ui/<date>-<version>.json.
"""

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORT = 18580
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def cli(home, *args, version=None):
    env = dict(os.environ, METAFLOW_KESTRA_HOME=str(home))
    if version:
        env["METAFLOW_KESTRA_VERSION"] = version
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "metaflow_kestra.cli", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("metaflow-kestra %s failed:\n%s%s" % (" ".join(args), done.stdout, done.stderr))
    return time.monotonic() - began, done.stdout


def many_steps_flow(folder, steps):
    """A linear Metaflow flow of `steps` steps (start, step_1 ... end)."""
    names = ["start"] + ["step_%d" % i for i in range(1, steps - 1)] + ["end"]
    lines = ["from metaflow import FlowSpec, step", "", "", "class ManyStepsFlow(FlowSpec):"]
    for name, following in zip(names, names[1:] + [None]):
        lines += ["    @step", "    def %s(self):" % name,
                  "        self.next(self.%s)" % following if following else "        pass", ""]
    lines += ["", 'if __name__ == "__main__":', "    ManyStepsFlow()", ""]
    path = folder / "many_steps_flow.py"
    path.write_text("\n".join(lines))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kestra-version", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mfk-ui-bench-"))
    start = ["server", "start", "--port", str(PORT), "--management-port", str(PORT + 1)]
    stop = ["server", "stop", "--port", str(PORT)]
    try:
        cold, _ = cli(home, *start, version=args.kestra_version)
        cli(home, *stop)
        warm, _ = cli(home, *start, version=args.kestra_version)
        _, status = cli(home, "server", "status", "--port", str(PORT), "--json")
        state = json.loads(status)
        if not state["ui_url"]:
            raise SystemExit("the server started without its UI: see %s" % state["log"])
        password = Path(state["password_file"]).read_text().strip()
        work = Path(tempfile.mkdtemp(prefix="mfk-ui-flow-"))
        flow = many_steps_flow(work, args.steps)
        env = dict(os.environ, METAFLOW_KESTRA_HOME=str(home), METAFLOW_KESTRA_HOST=state["url"],
                   METAFLOW_USER=os.environ.get("METAFLOW_USER", "metaflow-kestra"))
        subprocess.run([sys.executable, str(flow), "kestra", "--kestra-namespace", "bench.ui", "create"],
                       cwd=work, env=env, check=True, capture_output=True)
        page = measure_page(state, password, args.repeat, args.steps)
        record = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                           text=True).stdout.strip(),
                  "kestra_version": state["kestra_version"], "cold_start_s": cold, "warm_start_s": warm,
                  "steps": args.steps, **page}
    finally:
        cli(home, *stop)
        shutil.rmtree(str(home), ignore_errors=True)
    print_table(record)
    out = ROOT / "benchmarks" / "results" / "ui" / ("%s-%s.json" % (record["date"][:10], record["kestra_version"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print("Stored %s" % out.relative_to(ROOT))


def measure_page(state, password, repeat, steps):
    from playwright.sync_api import sync_playwright

    base = state["url"] + "/ui/"
    topology = base + "#/flows/bench.ui/manystepsflow/topology"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            sizes = {}
            cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
            page.goto(base, wait_until="networkidle")
            first_load = sum(sizes.values())
            requests_count = len(sizes)
            decoded = page.evaluate("performance.getEntriesByType('resource').concat("
                                    "performance.getEntriesByType('navigation'))"
                                    ".reduce((n, e) => n + e.decodedBodySize, 0)")
            page.fill("[data-testid=login-user]", state["username"])
            page.fill("[data-testid=login-password]", password)
            page.click("[data-testid=login-submit]")
            page.wait_for_selector("[data-testid=flow-row]")
            renders = []
            for attempt in range(repeat):
                page.goto("about:blank")
                before = sum(sizes.values())
                began = time.monotonic()
                page.goto(topology)
                page.wait_for_function("document.querySelectorAll('[data-testid=topology] .vue-flow__node')"
                                       ".length >= %d" % steps, timeout=120_000)
                renders.append(time.monotonic() - began)
                if attempt == 0:  # the topology's code loads on first use: what that first view costs
                    first_topology = sum(sizes.values()) - before
            context.close()
        finally:
            browser.close()
    return {"first_load_bytes": first_load, "first_load_requests": requests_count,
            "first_topology_view_bytes": first_topology,
            "first_load_decoded_bytes": decoded, "topology_render_s": renders,
            "topology_render_median_s": statistics.median(renders)}


def print_table(r):
    rows = [
        ("server start, cold (builds server + UI)", "%.1f s" % r["cold_start_s"]),
        ("server start, warm", "%.1f s" % r["warm_start_s"]),
        ("cold / warm", "%.1fx" % (r["cold_start_s"] / r["warm_start_s"])),
        ("first load: bytes transferred", "%d (%.0f kB) in %d requests"
         % (r["first_load_bytes"], r["first_load_bytes"] / 1000, r["first_load_requests"])),
        ("first load: bytes after decompression", "%d (%.0f kB)" % (r["first_load_decoded_bytes"],
                                                                    r["first_load_decoded_bytes"] / 1000)),
        ("first topology view: bytes transferred (its code, the graph, the flow)",
         "%d (%.0f kB)" % (r["first_topology_view_bytes"], r["first_topology_view_bytes"] / 1000)),
        ("topology of a %d-step flow, first render (median of %d)" % (r["steps"], len(r["topology_render_s"])),
         "%.2f s (min %.2f, max %.2f)" % (r["topology_render_median_s"], min(r["topology_render_s"]),
                                          max(r["topology_render_s"]))),
    ]
    width = max(len(name) for name, _ in rows)
    print("Web UI on Kestra %s (commit %s, %s)" % (r["kestra_version"], r["commit"], r["date"]))
    for name, value in rows:
        print("  %s  %s" % (name.ljust(width), value))


if __name__ == "__main__":
    main()
