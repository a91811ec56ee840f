"""`angler registry-events`: MLflow's webhook for the `champion` alias -> a drift report."""

import logging
import os
import subprocess
import threading
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.options import DEFAULT_OVERLAYS, EnvOption, OverlaysOption

log = logging.getLogger(__name__)
ISSUE_LABEL = "registry-drift"


def main(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8780,
    env: EnvOption = "production",
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    report_dir: Annotated[
        Path,
        typer.Option(
            help="Drift reports go here, one per alias state: "
            "drift-<env>-pinned-<version>-champion-<version or unset>.md."
        ),
    ] = Path("registry-events"),
    pull: Annotated[
        bool, typer.Option(help="`git pull --ff-only` the overlays' checkout before each check.")
    ] = False,
    github_repo: Annotated[
        str, typer.Option(help="owner/name: on drift, open an issue there (token in GH_TOKEN).")
    ] = "",
) -> None:
    """Receive MLflow's webhook deliveries and check the `champion` alias on each change.

    Deliveries must be signed with ANGLER_WEBHOOK_SECRET and be under 5 minutes old;
    replays are ignored. On drift it writes the same report as `angler reconcile` and, with
    --github-repo, opens an issue with it. It never publishes or writes an overlay."""
    from angler.deploy.registry import check_alias, drift_report, drift_summary
    from angler.deploy.registry_events import Receiver, make_server, webhook_secret

    secret = webhook_secret()
    github = _github(github_repo)

    one_at_a_time = threading.Lock()  # one git pull in the checkout, one issue per drift

    def on_alias_change(event) -> str:
        with one_at_a_time:
            return check_and_report(event)

    def check_and_report(event) -> str:
        if pull:
            _pull(overlays)
        check = check_alias(env, overlays)
        if check.in_sync:
            log.info("delivery %s: in sync (version %s)", event.delivery_id, check.pinned)
            return "in sync"
        report = drift_report(check)
        path = write_drift_report(report_dir, check, report)
        log.info("delivery %s: %s; report in %s", event.delivery_id, drift_summary(check), path)
        if github:
            log.info("issue: %s", open_drift_issue(github, github_repo, report))
        return "drift"

    server = make_server(Receiver(secret, on_alias_change), host, port)
    log.info("listening on http://%s:%s/ for %s's champion alias", host, port, env)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def write_drift_report(report_dir: Path, check, report: str) -> Path:
    """The report in a file named by the alias state, so that deliveries of one state (a
    retry, MLflow's repeats, an attacker's replays under new ids) rewrite one file rather
    than adding one each; written then renamed, so a reader never sees half of it."""
    champion = check.champion.version if check.champion else "unset"
    path = report_dir / f"drift-{check.env}-pinned-{check.pinned}-champion-{champion}.md"
    report_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.writing")
    partial.write_text(report, encoding="utf-8")
    partial.replace(path)
    return path


def open_drift_issue(github, repo: str, report: str) -> str:
    """An issue titled with the report's heading, unless one with that title is open."""
    title = report.splitlines()[0].lstrip("# ").strip()
    # Not filtered by label: GitHub drops the label when the token may not set one.
    open_issues = github.request("GET", f"/repos/{repo}/issues?state=open&per_page=100")
    for issue in open_issues:
        if issue.get("title") == title and "pull_request" not in issue:
            return f"#{issue['number']} is already open"
    created = github.request(
        "POST", f"/repos/{repo}/issues", {"title": title, "body": report, "labels": [ISSUE_LABEL]}
    )
    return f"opened #{created['number']}"


def _github(repo: str):
    if not repo:
        return None
    from angler.review.github_comment import GitHub

    token = os.environ.get("GH_TOKEN", "")
    if not token:
        raise AnglerError("--github-repo needs a token in GH_TOKEN")
    return GitHub(token)


def _pull(overlays: Path) -> None:
    result = subprocess.run(
        ["git", "-C", str(overlays), "pull", "--ff-only", "--quiet"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AnglerError(f"git pull in {overlays}: {result.stderr.strip()}")
