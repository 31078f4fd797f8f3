"""The link to a run in Kestra's UI is printed only where a UI answers (issue 27, item 3: every run
printed a link that was a 404 on the local server)."""

import http.server
import threading

import pytest

from metaflow_kestra.client import KestraClient
from metaflow_kestra.connection import Connection


def serving(status, content_type):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html></html>" if status == 200 else b'{"message": "Not Found"}'
            self.send_response(status if self.path == "/ui/" else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("status, content_type, has_ui", [
    (200, "text/html; charset=utf-8", True),   # Kestra's web server
    (404, "application/json", False),          # a server without a UI (the local server before issue 28)
])
def test_the_ui_link_is_given_only_where_a_ui_answers(status, content_type, has_ui):
    server = serving(status, content_type)
    try:
        client = KestraClient(Connection("http://127.0.0.1:%d" % server.server_address[1]))
        assert client.has_ui() is has_ui
    finally:
        server.shutdown()


def test_no_server_means_no_link():
    assert KestraClient(Connection("http://127.0.0.1:9")).has_ui() is False
