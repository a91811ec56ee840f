"""A stand-in for the GitHub REST API on 127.0.0.1, for the comment poster: github.com cannot
run here. It knows one pull request (number, head commit, head repository), answers the
three calls the poster makes, and keeps the comments posted and edited."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class PullRequest:
    repo: str  # owner/name of the base repository
    number: int
    head_sha: str
    head_repo: str | None  # owner/name the head branch lives in; None: a deleted fork
    comments: dict[int, dict] = field(default_factory=dict)  # id -> {"body", "user"}
    edits: int = 0


@contextmanager
def github_stand_in(pull: PullRequest) -> Iterator[str]:
    """Serve `pull` until the block ends; yields the API's base URL (GITHUB_API_URL)."""
    base = f"/repos/{pull.repo}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == f"{base}/pulls/{pull.number}":
                head = {
                    "sha": pull.head_sha,
                    "repo": pull.head_repo and {"full_name": pull.head_repo},
                }
                return self.answer({"number": pull.number, "head": head})
            if self.path.startswith(f"{base}/issues/{pull.number}/comments?"):
                first_page = "page=1" in self.path.split("?")[1].split("&")
                listed = [{"id": i} | c for i, c in pull.comments.items()] if first_page else []
                return self.answer(listed)
            self.answer({"message": "Not Found"}, 404)

        def do_POST(self):
            if self.path != f"{base}/issues/{pull.number}/comments":
                return self.answer({"message": "Not Found"}, 404)
            number = len(pull.comments) + 1
            pull.comments[number] = {"body": self.payload()["body"], "user": {"type": "Bot"}}
            self.answer({"id": number}, 201)

        def do_PATCH(self):
            number = int(self.path.rsplit("/", 1)[1])
            pull.comments[number]["body"] = self.payload()["body"]
            pull.edits += 1
            self.answer({"id": number})

        def payload(self) -> dict:
            return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

        def answer(self, payload, status: int = 200):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
