"""MLflow registry webhooks -> the drift check, for `angler registry-events`.

MLflow signs each delivery (Standard Webhooks style): `X-MLflow-Signature` is
`v1,<base64 HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")>`, `X-MLflow-Timestamp`
is unix seconds and `X-MLflow-Delivery-Id` a UUID. A delivery is accepted only with a valid
signature and a timestamp within MAX_SKEW_S of now; a delivery id seen before is a replay
and is answered 200 without acting on it. An alias event for `champion` runs the callback
(the drift check); the receiver itself never publishes or writes an overlay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
from mlflow.exceptions import MlflowException

from angler.deploy.registry import CHAMPION, registry_client
from angler.errors import AnglerError
from angler.model import tracking

log = logging.getLogger(__name__)

SECRET_ENV = "ANGLER_WEBHOOK_SECRET"
MIN_SECRET_LENGTH = 16
MAX_SKEW_S = 300
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16  # an MLflow payload nests 2 deep; json.loads recurses once per level
REMEMBERED_DELIVERIES = 10_000
ALIAS_EVENTS = ("model_version_alias.created", "model_version_alias.deleted")
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# ASCII digits only: `str.isdigit` also accepts "²", which `int` then rejects.
_CONTENT_LENGTH = re.compile(r"[0-9]{1,10}")


class WebhookError(AnglerError):
    """The receiver or the webhook cannot be set up as asked."""


class Refused(Exception):
    """A delivery answered with `status` and not acted on."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class AliasEvent:
    delivery_id: str
    action: str  # "created" (set or moved) or "deleted"
    version: str | None


def webhook_secret(environ: Mapping[str, str] = os.environ) -> str:
    secret = environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_LENGTH:
        raise WebhookError(
            f"set {SECRET_ENV} to the webhook's secret (at least {MIN_SECRET_LENGTH} characters)"
        )
    return secret


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """The delivery id of a delivery MLflow signed with `secret` within MAX_SKEW_S of now."""
    lowered = {key.lower(): value for key, value in headers.items()}
    delivery_id = lowered.get("x-mlflow-delivery-id", "")
    timestamp = lowered.get("x-mlflow-timestamp", "")
    signatures = lowered.get("x-mlflow-signature", "").split()
    if not (_DELIVERY_ID.fullmatch(delivery_id) and _TIMESTAMP.fullmatch(timestamp) and signatures):
        raise Refused(401, "missing or malformed signature headers")
    expected = signature(secret, delivery_id, timestamp, body)
    # Several space-separated signatures are allowed, as while a secret is rotated.
    if not any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures):
        raise Refused(401, "bad signature")
    if abs(now - int(timestamp)) > MAX_SKEW_S:
        raise Refused(401, f"timestamp {timestamp} is more than {MAX_SKEW_S} s from now")
    return delivery_id


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without parsing it (the
    brackets inside strings do not count), so that a deep body never reaches json.loads."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def alias_event(delivery_id: str, body: bytes) -> AliasEvent | None:
    """The `champion` alias event of the registered model, or None for any other event."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise Refused(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body)
        event = f"{payload['entity']}.{payload['action']}"
        data = payload["data"]
    except (ValueError, KeyError, TypeError):
        raise Refused(400, "not an MLflow webhook payload") from None
    if not isinstance(data, dict):
        raise Refused(400, "the payload's data is not an object")
    if event not in ALIAS_EVENTS:
        return None
    if data.get("name") != tracking.REGISTERED_MODEL or data.get("alias") != CHAMPION:
        return None
    version = data.get("version")
    return AliasEvent(delivery_id, payload["action"], None if version is None else str(version))


@dataclass
class SeenDeliveries:
    """Delivery ids already taken, the most recent `limit` of them. Beyond that (or after a
    restart) the timestamp check still refuses a delivery older than MAX_SKEW_S."""

    limit: int = REMEMBERED_DELIVERIES
    _ids: OrderedDict[str, None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, delivery_id: str) -> bool:
        """True the first time `delivery_id` is claimed."""
        with self._lock:
            if delivery_id in self._ids:
                return False
            self._ids[delivery_id] = None
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
            return True

    def release(self, delivery_id: str) -> None:
        """Forget a delivery that failed, so that MLflow's retry of it is acted on."""
        with self._lock:
            self._ids.pop(delivery_id, None)


@dataclass
class Receiver:
    """Checks a delivery and runs `on_alias_change` on a `champion` alias event."""

    secret: str
    on_alias_change: Callable[[AliasEvent], str]
    seen: SeenDeliveries = field(default_factory=SeenDeliveries)
    clock: Callable[[], float] = time.time

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict]:
        try:
            delivery_id = verify(self.secret, headers, body, self.clock())
            event = alias_event(delivery_id, body)
        except Refused as refused:
            log.warning("refused a delivery (%s): %s", refused.status, refused.reason)
            return refused.status, {"error": refused.reason}
        if not self.seen.claim(delivery_id):
            log.info("delivery %s: a replay, ignored", delivery_id)
            return 200, {"status": "replay ignored"}
        if event is None:
            return 200, {"status": "not a champion alias event"}
        try:
            outcome = self.on_alias_change(event)
        except Exception:
            self.seen.release(delivery_id)
            log.exception("delivery %s: the drift check failed", delivery_id)
            return 500, {"error": "drift check failed"}
        return 200, {"status": outcome}


def make_server(receiver: Receiver, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server that hands each POST to `receiver`; serve_forever() runs it."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 30  # seconds: a client that stops sending does not keep its thread

        def do_GET(self) -> None:
            if self.path == "/health":
                return self._answer(200, {"status": "ok"})
            self._answer(404, {"error": "POST MLflow webhook deliveries here"})

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length")
            if length is None:
                return self._answer(411, {"error": "Content-Length required"})
            if not _CONTENT_LENGTH.fullmatch(length.strip()):
                return self._answer(400, {"error": "Content-Length is not a number of bytes"})
            if int(length) > MAX_BODY_BYTES:
                return self._answer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
            body = self.rfile.read(int(length))
            self._answer(*receiver.handle(self.headers, body))

        def _answer(self, status: int, answer: dict) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer((host, port), Handler)


def register_webhook(url: str, secret: str, name: str) -> tuple[str, bool]:
    """Create the MLflow webhook for `champion` alias events, or update the one named `name`
    (its URL, events and secret); returns its id and whether it was created."""
    client = registry_client()
    description = "angler registry-events: champion alias changes -> drift report"
    try:
        for hook in _all_webhooks(client):
            if hook.name == name:
                client.update_webhook(
                    hook.webhook_id,
                    url=url,
                    events=list(ALIAS_EVENTS),
                    secret=secret,
                    description=description,
                    status="ACTIVE",
                )
                return hook.webhook_id, False
        created = client.create_webhook(
            name, url, list(ALIAS_EVENTS), description=description, secret=secret
        )
    except MlflowException as err:
        raise WebhookError(f"MLflow refused the webhook: {err.message}") from None
    return created.webhook_id, True


def send_test_delivery(webhook_id: str) -> str:
    """Have MLflow send its example alias event to the webhook; a failure raises."""
    result = registry_client().test_webhook(webhook_id, ALIAS_EVENTS[0])
    if not result.success:
        raise WebhookError(
            f"test delivery failed: {result.response_status or ''} "
            f"{result.error_message or result.response_body or ''}".strip()
        )
    return f"test delivery answered {result.response_status}"


def _all_webhooks(client: mlflow.MlflowClient):
    token = None
    while True:
        page = client.list_webhooks(max_results=100, page_token=token)
        yield from page
        token = page.token
        if not token:
            return
