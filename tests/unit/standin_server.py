"""A stand-in for the Kestra process in lifecycle tests of our supervisor.

usage: standin_server.py MODE CONFIG PORT MANAGEMENT_PORT
MODE: healthy (answers /health), crash (exits at once), silent (never answers).
"""

import http.server
import os
import sys
import threading
import time

mode, config, port, management_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print("stand-in pid %d starting with config %s" % (os.getpid(), config), flush=True)
if mode == "crash":
    print("boom: cannot open database", flush=True)
    sys.exit(3)
if mode == "silent":
    time.sleep(3600)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


servers = [http.server.HTTPServer(("127.0.0.1", p), Health) for p in (port, management_port)]
for server in servers[1:]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
servers[0].serve_forever()
