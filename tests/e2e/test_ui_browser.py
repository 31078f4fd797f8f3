"""What a Kestra user sees, checked in a real browser (Debian's Chromium driven by Playwright).

Runs when a Kestra server, /usr/bin/chromium and the `playwright` package are all present
(`.ci/run` installs the last two where a server can be had); skips naming what is missing.
Screenshots go to docs/screenshots/.
"""

import shutil
from pathlib import Path

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.flow_loading import load_graph

# Kestra's UI ships only in the official JAR; this project's local server has none. Deselected by
# default (pyproject addopts); run against an official JAR with:
#   METAFLOW_KESTRA_JAR=/path/kestra.jar pytest -m official_ui   (scripts/browser.sh installs Chromium)
# The local server's own UI is tested in test_web_ui.py.
pytestmark = [pytest.mark.e2e, pytest.mark.official_ui]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(kestra_server, tmp_path):
    if kestra_server.distribution != "official":
        pytest.skip("this test reads Kestra's own UI, which only the official JAR serves (METAFLOW_KESTRA_JAR)")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (Debian package `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000},
                                      http_credentials={"username": kestra_server.username,
                                                        "password": kestra_server.password})
        page = context.new_page()
        page.goto(kestra_server.url + "/ui/login")
        if page.locator("input[type=password]").count():
            page.fill("input[type=email], input[name=username]", kestra_server.username)
            page.fill("input[type=password]", kestra_server.password)
            page.keyboard.press("Enter")
            page.wait_for_load_state("networkidle")
        yield page
        browser.close()


def test_topology_gantt_and_outputs_show_the_steps(page, kestra_server, workspace):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _, run_id = run_on_kestra(workspace, "quickstart_flow")
    steps = [node.name for node in load_graph("quickstart_flow")]
    base = "%s/ui/main" % kestra_server.url

    page.goto("%s/flows/edit/metaflow.tests/quickstartflow/topology" % base)
    page.wait_for_load_state("networkidle")
    for step in steps:
        assert page.get_by_text(step, exact=True).first.is_visible(), step
    page.screenshot(path=str(SCREENSHOTS / "topology.png"), full_page=True)

    execution = "%s/executions/metaflow.tests/quickstartflow/%s" % (base, run_id[len("kestra-"):])
    page.goto(execution + "/gantt")
    page.wait_for_load_state("networkidle")
    for step in steps:
        assert page.get_by_text(step).first.is_visible(), step
    page.screenshot(path=str(SCREENSHOTS / "gantt.png"), full_page=True)

    page.goto(execution + "/outputs")
    page.wait_for_load_state("networkidle")
    page.get_by_text("start", exact=True).first.click()
    assert page.get_by_text("artifacts").first.is_visible()
    assert page.get_by_text("settings").first.is_visible()  # an artifact name of the start step
    page.screenshot(path=str(SCREENSHOTS / "outputs.png"), full_page=True)
