"""`angler registry-events`: MLflow's signed alias webhooks -> the drift report. The rules
(signature, timestamp, replay) on locally signed deliveries, then a real `mlflow server`
delivering to a real receiver process."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mlflow.webhooks.delivery import _generate_hmac_signature

from angler.commands.registry_events import open_drift_issue
from angler.deploy.registry_events import (
    MAX_SKEW_S,
    Receiver,
    SeenDeliveries,
    WebhookError,
    json_depth,
    make_server,
    signature,
    webhook_secret,
)
from angler.deploy.serving import MODEL_ENV, Pin, Promotion, write_promotion

from helpers.engines import free_port, mlflow_server_command, running

SECRET = "a-secret-of-at-least-16-characters"
NOW = 1_700_000_000
ANGLER = str(Path(sys.executable).with_name("angler"))


def alias_body(alias: str = "champion", name: str = "angler", action: str = "created") -> bytes:
    data = {"name": name, "alias": alias, **({"version": "3"} if action == "created" else {})}
    payload = {"entity": "model_version_alias", "action": action, "timestamp": "t", "data": data}
    return json.dumps(payload).encode()


def signed(body: bytes, delivery_id: str = "d-1", at: int = NOW, secret: str = SECRET) -> dict:
    return {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": str(at),
        "X-MLflow-Signature": signature(secret, delivery_id, str(at), body),
    }


@pytest.fixture
def receiver() -> Receiver:
    calls = []
    found = Receiver(SECRET, lambda event: calls.append(event) or "drift", clock=lambda: NOW)
    found.calls = calls
    return found


def test_the_signature_is_mlflows():
    body = alias_body()
    assert signature(SECRET, "d-1", str(NOW), body) == _generate_hmac_signature(
        SECRET, "d-1", str(NOW), body.decode()
    )


def test_a_signed_champion_event_runs_the_drift_check(receiver):
    assert receiver.handle(signed(alias_body()), alias_body()) == (200, {"status": "drift"})
    (event,) = receiver.calls
    assert (event.delivery_id, event.action, event.version) == ("d-1", "created", "3")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        signed(alias_body(), secret="another-secret-16-characters"),
        signed(alias_body(alias="other")),  # signed for another body
        {**signed(alias_body()), "X-MLflow-Delivery-Id": "d-2"},  # signed for another id
        {**signed(alias_body()), "X-MLflow-Timestamp": str(NOW + 1)},
        {**signed(alias_body()), "X-MLflow-Signature": "v1,"},
        signed(alias_body(), delivery_id="../../etc"),
    ],
    ids=["unsigned", "other-secret", "other-body", "other-id", "other-time", "empty", "bad-id"],
)
def test_a_forged_delivery_is_refused(receiver, headers):
    status, _ = receiver.handle(headers, alias_body())
    assert status == 401
    assert receiver.calls == []


@pytest.mark.parametrize("skew", [MAX_SKEW_S + 1, -MAX_SKEW_S - 1])
def test_a_delivery_outside_the_time_window_is_refused(receiver, skew):
    assert receiver.handle(signed(alias_body(), at=NOW + skew), alias_body())[0] == 401
    assert receiver.handle(signed(alias_body(), at=NOW + skew // 2), alias_body())[0] == 200


def test_a_replay_is_answered_and_ignored(receiver):
    headers, body = signed(alias_body()), alias_body()
    assert receiver.handle(headers, body)[0] == 200
    assert receiver.handle(headers, body) == (200, {"status": "replay ignored"})
    assert len(receiver.calls) == 1


def test_a_failed_check_is_retried_by_the_same_delivery():
    outcomes = iter([RuntimeError("MLflow is down"), "drift"])

    def check(event):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    receiver = Receiver(SECRET, check, clock=lambda: NOW)
    headers, body = signed(alias_body()), alias_body()
    assert receiver.handle(headers, body)[0] == 500
    assert receiver.handle(headers, body) == (200, {"status": "drift"})


@pytest.mark.parametrize(
    "body",
    [
        alias_body(alias="staging"),
        alias_body(name="another-model"),
        json.dumps({"entity": "model_version", "action": "created", "data": {}}).encode(),
    ],
    ids=["other-alias", "other-model", "other-event"],
)
def test_other_events_are_answered_and_not_checked(receiver, body):
    assert receiver.handle(signed(body), body) == (200, {"status": "not a champion alias event"})
    assert receiver.calls == []


def test_a_deleted_alias_is_checked_too(receiver):
    body = alias_body(action="deleted")
    assert receiver.handle(signed(body), body)[0] == 200
    assert receiver.calls[0].version is None


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"entity": "x"}', b'{"entity": 1, "action": 2, "data": 3}']
)
def test_a_signed_malformed_body_is_a_bad_request(receiver, body):
    assert receiver.handle(signed(body), body)[0] == 400


def test_remembered_deliveries_are_bounded():
    seen = SeenDeliveries(limit=2)
    assert [seen.claim(i) for i in ("a", "b", "a", "c", "a")] == [True, True, False, True, True]


@pytest.mark.parametrize("environ", [{}, {"ANGLER_WEBHOOK_SECRET": "short"}])
def test_no_receiver_without_a_real_secret(environ):
    with pytest.raises(WebhookError, match="ANGLER_WEBHOOK_SECRET"):
        webhook_secret(environ)


def test_the_command_refuses_to_start_without_a_secret(tmp_path):
    result = subprocess.run(
        [ANGLER, "registry-events", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 2
    assert "ANGLER_WEBHOOK_SECRET" in result.stderr


def test_over_http_bad_signatures_and_big_bodies_are_refused(receiver):
    receiver.clock = time.time
    server = make_server(receiver, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        body = alias_body()
        assert post(url, body, signed(body, at=int(time.time())))[0] == 200
        assert post(url, body, signed(body, "d-2", int(time.time()), "x" * 20))[0] == 401
        assert post(url, b"x" * 70_000, {})[0] == 413
        assert raw_post(server, b"Content-Length: \xc2\xb2\r\n\r\n{}") == 400
        deep = b"[" * 30_000 + b"]" * 30_000  # signed, under the size cap; json.loads recurses
        assert post(url, deep, signed(deep, "d-3", int(time.time()))) == (
            400,
            {"error": "JSON nested deeper than 16 levels"},
        )
        with urllib.request.urlopen(url + "health", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert len(receiver.calls) == 1


class FakeGitHub:
    def __init__(self, issues: list[dict]):
        self.issues, self.posted = issues, []

    def request(self, method, path, payload=None):
        if method == "GET":
            return self.issues
        self.posted.append((path, payload))
        return {"number": 7}


def test_a_drift_issue_is_opened_once():
    title = "Registry drift: champion is version 3, production pins 2"
    report = f"# {title}\n\nbody\n"
    github = FakeGitHub([{"number": 5, "title": "other"}])
    assert open_drift_issue(github, "o/r", report) == "opened #7"
    assert github.posted == [
        ("/repos/o/r/issues", {"title": title, "body": report, "labels": ["registry-drift"]})
    ]
    github = FakeGitHub([{"number": 5, "title": title}])
    assert open_drift_issue(github, "o/r", report) == "#5 is already open"
    assert github.posted == []


def test_json_depth_counts_brackets_outside_strings():
    assert json_depth(b'{"data": {"name": "[[[{{{", "v": [1, [2]]}}') == 4
    assert json_depth(rb'"\\"[[[[') == 4  # an escaped backslash, then the closing quote
    assert json_depth(rb'"\"[[[["') == 0  # an escaped quote: the string goes on


def raw_post(server, header_lines: bytes) -> int:
    """The status line's code for a POST whose headers are sent as written."""
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: receiver\r\n" + header_lines)
        status = connection.makefile("rb").readline()
    return int(status.split()[1])


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as answer:
        return answer.code, json.load(answer)


# --- A real MLflow server delivering to a real receiver ---------------------------------


@pytest.fixture(scope="module")
def webhook_mlflow(tmp_path_factory) -> Iterator[str]:
    """`mlflow server` (SQLite, proxied artifacts) that may deliver webhooks to 127.0.0.1."""
    root = tmp_path_factory.mktemp("mlflow-webhooks")
    port = free_port()
    command = mlflow_server_command(root, port)
    env = {
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
        "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "0",  # a refusal is the test's answer, not retried
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no job runner beside it
    }
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/health", env=env, cwd=root, timeout=180):
        yield url


@contextmanager
def recording_relay(target: str) -> Iterator[tuple[str, list[dict]]]:
    """A proxy in front of the receiver that keeps each delivery (headers, body, answer),
    so the test can replay exactly what MLflow sent."""
    deliveries: list[dict] = []

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {
                k.lower(): v for k, v in self.headers.items() if k.lower().startswith("x-mlflow")
            }
            status, answer = post(target, body, {**headers, "Content-Type": "application/json"})
            deliveries.append({"headers": headers, "body": body, "status": status, **answer})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", deliveries
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s")


@pytest.mark.engines
@pytest.mark.slow
def test_mlflow_delivers_alias_changes_and_the_receiver_reports_drift(webhook_mlflow, tmp_path):
    from mlflow import MlflowClient

    overlays, reports = tmp_path / "overlays", tmp_path / "reports"
    (overlays / "production").mkdir(parents=True)
    write_promotion(overlays / "production" / MODEL_ENV, Promotion(Pin(1, "sha256:" + "a" * 64)))
    env = {"ANGLER_WEBHOOK_SECRET": SECRET, "MLFLOW_TRACKING_URI": webhook_mlflow}
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}/"
    serve = [ANGLER, "registry-events", "--port", str(port), "--overlays", str(overlays)]
    serve += ["--report-dir", str(reports)]
    with (
        running(serve, receiver_url + "health", env=env, timeout=120),
        recording_relay(receiver_url) as (relay_url, deliveries),
    ):
        registered = subprocess.run(
            [ANGLER, "webhook-register", "--url", relay_url, "--test"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
        )
        assert registered.returncode == 0, registered.stderr
        assert registered.stdout.strip()  # the webhook id
        assert deliveries[-1]["status"] == "not a champion alias event"  # MLflow's test event

        client = MlflowClient(tracking_uri=webhook_mlflow, registry_uri=webhook_mlflow)
        run = client.create_run(client.create_experiment("webhooks"))
        client.create_registered_model("angler")
        for _ in range(2):
            client.create_model_version("angler", f"runs:/{run.info.run_id}/model", run.info.run_id)

        client.set_registered_model_alias("angler", "champion", "1")  # what git pins
        wait_for(lambda: any(d["status"] == "in sync" for d in deliveries))
        assert not reports.exists()

        client.set_registered_model_alias("angler", "champion", "2")  # moved by hand
        (report,) = wait_for(lambda: list(reports.glob("drift-*.md")))
        text = report.read_text()
        assert text.startswith("# Registry drift: champion is version 2, production pins 1")
        assert run.info.run_id in text and "angler champion --env production" in text
        drift = next(d for d in deliveries if d["status"] == "drift")
        assert report.name == "drift-production-pinned-1-champion-2.md"

        replayed = post(receiver_url, drift["body"], drift["headers"])
        assert replayed == (200, {"status": "replay ignored"})
        forged_body = drift["body"].replace(b'"version": "2"', b'"version": "1"')
        assert forged_body != drift["body"]
        assert post(receiver_url, forged_body, drift["headers"])[0] == 401
        assert list(reports.glob("drift-*.md")) == [report]

        client.delete_registered_model_alias("angler", "champion")
        wait_for(lambda: len(list(reports.glob("drift-*.md"))) == 2)
        unset = reports / "drift-production-pinned-1-champion-unset.md"
        assert "champion is not set" in unset.read_text()

        client.set_registered_model_alias("angler", "champion", "2")  # that state again
        wait_for(lambda: sum(d["status"] == "drift" for d in deliveries) == 3)
        assert sorted(p.name for p in reports.iterdir()) == [report.name, unset.name]
