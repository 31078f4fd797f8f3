"""The local server's web UI (server/ui), looked at in a real browser: Debian's Chromium driven by
Playwright, on Kestra 1.3 and 2.0 (issue 28).

One run of UiTourFlow (a split, a foreach, a retried step, a switch and a card), started from the
UI's own trigger form, is followed live and then read view by view. With
METAFLOW_KESTRA_UI_SCREENSHOTS=<dir> each view is also saved there as a PNG
(scripts/write-ui-screenshots.sh writes docs/ui/ with it); the suite itself writes nothing.
"""

import base64
import os
import shutil
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.e2e.test_operations_on_kestra import NAMESPACE, kestra
from tests.flow_loading import load_graph

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
FLOW_ID = "uitourflow"
TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("no Chromium at %s: install Debian's `chromium` (.ci/run does)" % CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, kestra_server):
    from tests.e2e.conftest import kestra_workspace

    assert kestra_server.has_ui, "the local server was started without its UI (see its log)"
    workspace = kestra_workspace(tmp_path_factory.mktemp("ui"), kestra_server)
    kestra(workspace, "ui_tour_flow", "create")
    return workspace


@pytest.fixture
def page(browser, kestra_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(kestra_server.url + "/ui/")
    page.fill("[data-testid=login-user]", kestra_server.username)
    page.fill("[data-testid=login-password]", kestra_server.password)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=flow-row]", timeout=60_000)
    yield page
    context.close()
    assert not errors, "the page threw: %s" % errors


def api(kestra_server):
    session = requests.Session()
    session.auth = (kestra_server.username, kestra_server.password)
    return session


def shot(page, name):
    folder = os.environ.get("METAFLOW_KESTRA_UI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / ("%s.png" % name)), full_page=False)


def test_a_run_started_from_the_ui_is_followed_live_and_shown_in_every_view(page, deployed, kestra_server):
    base = kestra_server.url + "/ui/#"
    steps = [node.name for node in load_graph("ui_tour_flow")]

    page.goto("%s/flows" % base)
    row = page.locator("[data-testid=flow-row]", has_text=FLOW_ID)
    row.wait_for()
    shot(page, "flows")

    page.goto("%s/flows/%s/%s/topology" % (base, NAMESPACE, FLOW_ID))
    topology = page.locator("[data-testid=topology]")
    for step in steps:
        topology.get_by_text(step, exact=True).first.wait_for(timeout=60_000)
    shot(page, "flow-topology")

    page.goto("%s/flows/%s/%s/trigger" % (base, NAMESPACE, FLOW_ID))
    form = page.locator("[data-testid=trigger-form]")
    form.locator("[name=rows]").fill("3")
    form.locator("[name=pause]").fill("6")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    page.click("[data-testid=trigger-submit]")
    state = page.locator("[data-testid=execution-state]")
    state.wait_for(timeout=60_000)
    page.wait_for_function("['CREATED', 'RUNNING'].includes(document.querySelector("
                           "'[data-testid=execution-state]').textContent.trim())", timeout=60_000)
    execution_id = page.url.rsplit("/executions/", 1)[1].split("/")[2]
    page.wait_for_timeout(4000)
    shot(page, "execution-running")
    page.wait_for_function("document.querySelector('[data-testid=execution-state]').textContent.trim()"
                           " === 'SUCCESS'", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded: the run was not followed live"

    execution = api(kestra_server).get("%s/api/v1/main/executions/%s" % (kestra_server.url, execution_id),
                                       timeout=60).json()
    assert execution["state"]["current"] == "SUCCESS"
    assert execution["inputs"]["rows"] == 3
    pathspec = "UiTourFlow/kestra-%s" % execution_id
    assert pathspec in page.locator("[data-testid=pathspec]").inner_text()

    page.goto("%s/executions/%s/%s/%s/topology" % (base, NAMESPACE, FLOW_ID, execution_id))
    for step in ("start", "load", "decide", "fast", "end"):
        page.locator("[data-testid=topology]").get_by_text(step, exact=True).first.wait_for(timeout=60_000)
    shot(page, "execution-topology")
    if kestra_major(kestra_server) >= 2:  # each foreach item is an execution of its own (Loop), reached from here
        children = page.locator("[data-testid=child-execution]")
        children.nth(2).wait_for(timeout=60_000)
        assert children.count() == 3
        assert all("SUCCESS" in text for text in children.all_inner_texts())

    page.goto("%s/executions/%s/%s/%s/gantt" % (base, NAMESPACE, FLOW_ID, execution_id))
    rows = page.locator("[data-testid=gantt-row]")
    rows.first.wait_for()
    task_runs = execution["taskRunList"]
    assert rows.count() == len(task_runs), "one row per task run"
    load = page.locator("[data-testid=gantt-row][data-task-id=load]")
    attempts = [run for run in task_runs if run["taskId"] == "load"][0]["attempts"]
    assert len(attempts) >= 2, "the retried step's first attempt failed"
    assert int(load.get_attribute("data-attempts")) == len(attempts)
    assert load.locator("[data-testid=gantt-attempt][data-state=FAILED]").count() == 1
    shot(page, "gantt")

    page.goto("%s/executions/%s/%s/%s/logs" % (base, NAMESPACE, FLOW_ID, execution_id))
    page.locator("[data-testid=log-line]", has_text="ui-tour: starting with 3 rows").first.wait_for()
    shot(page, "logs")

    page.goto("%s/executions/%s/%s/%s/outputs" % (base, NAMESPACE, FLOW_ID, execution_id))
    # Kestra 2.x keeps outputs out of the execution: the page reads them from its outputs API, a moment later.
    page.locator("[data-testid=task-outputs][data-task-id=fast]",
                 has_text="UiTourFlow/kestra-%s/fast/" % execution_id).wait_for(timeout=60_000)
    card = page.frame_locator("[data-testid=card]").first
    card.get_by_text("The total is 5.", exact=True).wait_for(timeout=60_000)  # 0 + 1 + 4
    page.locator("[data-testid=card]").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # the frame paints once in view
    shot(page, "outputs-card")


def test_kill_from_the_ui_stops_the_run(page, deployed, kestra_server):
    execution_id = _trigger(kestra_server, pause="120")
    page.goto("%s/ui/#/executions/%s/%s/%s" % (kestra_server.url, NAMESPACE, FLOW_ID, execution_id))
    page.wait_for_function("document.querySelector('[data-testid=execution-state]')?.textContent.trim()"
                           " === 'RUNNING'", timeout=60_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=kill]")
    page.wait_for_function("document.querySelector('[data-testid=execution-state]').textContent.trim()"
                           " === 'KILLED'", timeout=TIMEOUT_MS)
    assert _state(kestra_server, execution_id) == "KILLED"


def test_restart_from_the_ui_runs_the_failed_step_again(page, deployed, kestra_server):
    """ResumableFlow fails at `check` until a file exists beside the datastore; Restart then ends SUCCESS."""
    kestra(deployed, "resumable_flow", "create")
    execution_id = _trigger(kestra_server, flow_id="resumableflow")
    url = "%s/ui/#/executions/%s/resumableflow/%s" % (kestra_server.url, NAMESPACE, execution_id)
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-testid=execution-state]')?.textContent.trim()"
                           " === 'FAILED'", timeout=TIMEOUT_MS)
    (deployed.root / "resumable-flow-fixed").write_text("ok")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=restart]")
    page.wait_for_function("document.querySelector('[data-testid=execution-state]').textContent.trim()"
                           " === 'SUCCESS'", timeout=TIMEOUT_MS)
    assert _state(kestra_server, execution_id) == "SUCCESS"
    assert deployed.artifacts("ResumableFlow", "kestra-" + execution_id)["successful"]


def test_the_executions_list_filters_by_state(page, deployed, kestra_server):
    page.goto("%s/ui/#/executions?namespace=%s&flowId=%s&state=SUCCESS" % (kestra_server.url, NAMESPACE, FLOW_ID))
    rows = page.locator("[data-testid=execution-row]")
    rows.first.wait_for(timeout=60_000)
    texts = rows.all_inner_texts()
    assert texts and all("SUCCESS" in text for text in texts)
    shot(page, "executions")


def test_another_sites_page_cannot_make_the_browser_act(browser, deployed, kestra_server):
    """The browser holds the user's credentials (as after answering a login dialog); a page of
    another origin posts a form to the trigger endpoint and fetches the API: both are refused,
    and nothing starts."""
    before = _count_executions(kestra_server)
    target = "%s/api/v1/main/executions/%s/%s" % (kestra_server.url, NAMESPACE, FLOW_ID)
    evil = """<html><body>
<form id=f method=POST action="%s" enctype="multipart/form-data"><input name=rows value=1></form>
<script>
fetch("%s", {method: "POST", credentials: "include", mode: "no-cors", body: new FormData(document.getElementById("f"))})
  .finally(() => document.getElementById("f").submit());
</script></body></html>""" % (target, target)
    token = base64.b64encode(("%s:%s" % (kestra_server.username, kestra_server.password)).encode()).decode()
    context = browser.new_context(extra_http_headers={"Authorization": "Basic " + token})
    answers = []
    try:
        with _page_server(evil) as evil_url:
            page = context.new_page()
            page.on("response", lambda response: answers.append((response.url, response.status))
                    if response.url.startswith(target) else None)
            page.goto(evil_url)
            page.wait_for_url(target + "*", timeout=30_000)  # the form's post was sent and answered
            assert "Forbidden" in page.content()
    finally:
        context.close()
    assert answers and all(status == 403 for _, status in answers), answers
    assert _count_executions(kestra_server) == before, "another site's page started a run"


def test_the_api_refuses_cross_site_requests_and_serves_the_ui_to_anyone(deployed, kestra_server):
    session = api(kestra_server)
    url = kestra_server.url
    redirect = requests.get(url + "/", allow_redirects=False, timeout=30)
    assert redirect.status_code == 302 and redirect.headers["Location"] == "/ui/"
    page = requests.get(url + "/ui/", timeout=30)  # no credentials: the page holds no data
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Frame-Options"] == "DENY"
    for path in ("/ui/.hidden", "/ui/assets/nothing.js", "/ui/assets/%2e%2e%2f%2e%2e%2fpassword.txt"):
        assert requests.get(url + path, timeout=30).status_code == 404, path
    # A page's address (a link printed for Kestra's UI) gets the app's page; nothing outside the UI's folder.
    for path in ("/ui/main/executions/%s/%s/some-id" % (NAMESPACE, FLOW_ID), "/ui/%2e%2e/password",
                 "/ui/../../password"):
        answer = requests.get(url + path, timeout=30)
        assert answer.status_code in (200, 404) and kestra_server.password not in answer.text, path
        assert answer.status_code == 404 or answer.text == page.text, path
    flows = "%s/api/v1/main/flows/search" % url
    assert session.get(flows, timeout=30).status_code == 200
    assert session.get(flows, headers={"Sec-Fetch-Site": "same-origin"}, timeout=30).status_code == 200
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "http://localhost:9999"}, {"Origin": "null"}):
        answer = session.get(flows, headers=headers, timeout=30)
        assert answer.status_code == 403, headers
        assert "another site" in answer.json()["message"] or "origin" in answer.json()["message"]
    # The UI's own calls get no basic-auth challenge (the browser would put its dialog over the page).
    unauthorized = requests.get(flows, headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"},
                                timeout=30)
    assert unauthorized.status_code == 401 and "WWW-Authenticate" not in unauthorized.headers
    assert "WWW-Authenticate" in requests.get(flows, timeout=30).headers


def kestra_major(kestra_server):
    return int(requests.get(kestra_server.url + "/api/v1/configs", timeout=30).json()["version"].split(".")[0])


def _trigger(kestra_server, flow_id=FLOW_ID, **inputs):
    answer = api(kestra_server).post("%s/api/v1/main/executions/%s/%s" % (kestra_server.url, NAMESPACE, flow_id),
                                     files={key: (None, value) for key, value in inputs.items()}, timeout=60)
    answer.raise_for_status()
    return answer.json()["id"]


def _state(kestra_server, execution_id):
    return api(kestra_server).get("%s/api/v1/main/executions/%s" % (kestra_server.url, execution_id),
                                  timeout=60).json()["state"]["current"]


def _count_executions(kestra_server):
    return api(kestra_server).get("%s/api/v1/main/executions/search" % kestra_server.url,
                                  params={"namespace": NAMESPACE, "flowId": FLOW_ID, "size": 1},
                                  timeout=60).json()["total"]


@contextmanager
def _page_server(html):
    """A page of another origin (another loopback port), serving `html`."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://localhost:%d/" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
