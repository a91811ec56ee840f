"""Post or update the one Angler comment on a pull request.

Run by the `pr-comment` workflow from the default branch, with nothing but the Python
standard library: it never installs or runs the pull request's code. The PR run's artifact
is untrusted, so only its data is used: report.json must have exactly the shape `angler
report` writes (angler.review.report_schema), and this code renders the Markdown from it; any
comment.md in the artifact is ignored. The PR's head commit must be the commit that run
built (a fork cannot aim its comment at another pull request).

    python3 -m angler.review.github_comment --repo OWNER/NAME --artifact DIR --head-sha SHA
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.request
from pathlib import Path

MARKER = "<!-- angler-report -->"
MAX_BODY = 65_000  # GitHub refuses comments over 65,536 characters
MAX_REPORT_BYTES = 4_000_000
API = "https://api.github.com"


class CommentError(Exception):
    """The artifact or the pull request is not what the PR run should have produced."""


def find_report_comment(comments: list[dict]) -> int | None:
    """The id of the bot's earlier Angler comment on the pull request, if there is one."""
    for comment in comments:
        is_bot = comment.get("user", {}).get("type") == "Bot"
        if is_bot and comment.get("body", "").startswith(MARKER):
            return comment["id"]
    return None


FORK_TRAFFIC = (
    "not shown for a pull request from a fork: its run may not read the served traffic, "
    "and what it reports of it is not trusted"
)


def render_artifact(artifact: Path, from_fork: bool = False) -> str:
    """The comment body, rendered here from the artifact's report.json once it is checked.
    A fork's report loses its served-traffic section: only a run with the read-only traffic
    credentials, which fork runs never get, may show one."""
    from angler.errors import AnglerError
    from angler.review.markdown import render_comment
    from angler.review.report_schema import check_report

    path = artifact / "report.json"
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise CommentError(f"{path.name} is over {MAX_REPORT_BYTES:,} bytes")
    try:
        report = check_report(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, AnglerError) as err:  # JSONDecodeError is a ValueError
        raise CommentError(f"{path.name} is not an Angler report: {err}") from None
    if from_fork and "served_traffic" in report:
        report["served_traffic"] = {"status": FORK_TRAFFIC}
    return render_comment(report)


def check_pr_number(text: str) -> int:
    if not re.fullmatch(r"[1-9][0-9]{0,9}", text.strip()):
        raise CommentError(f"the artifact's PR number is not a number: {text[:40]!r}")
    return int(text)


class GitHub:
    """The three REST calls this needs, authenticated with the workflow's token."""

    def __init__(self, token: str, api: str = API):
        self.token, self.api = token, api

    def request(self, method: str, path: str, payload: dict | None = None):
        request = urllib.request.Request(
            f"{self.api}{path}",
            method=method,
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def comments(self, repo: str, pr: int) -> list[dict]:
        found, page = [], 1
        while batch := self.request(
            "GET", f"/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}"
        ):
            found += batch
            page += 1
        return found


def upsert_comment(github: GitHub, repo: str, pr: int, body: str) -> str:
    """Update the Angler comment in place, or create it: one comment per pull request."""
    existing = find_report_comment(github.comments(repo, pr))
    if existing is None:
        github.request("POST", f"/repos/{repo}/issues/{pr}/comments", {"body": body})
        return "created"
    github.request("PATCH", f"/repos/{repo}/issues/comments/{existing}", {"body": body})
    return "updated"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument(
        "--artifact", type=Path, required=True, help="folder with report.json and pr-number"
    )
    parser.add_argument("--head-sha", required=True, help="the commit the PR run built")
    args = parser.parse_args(argv)
    try:
        pr = check_pr_number((args.artifact / "pr-number").read_text(encoding="utf-8"))
        github = GitHub(os.environ["GH_TOKEN"], os.environ.get("GITHUB_API_URL") or API)
        pull = github.request("GET", f"/repos/{args.repo}/pulls/{pr}")
        head = pull["head"]["sha"]
        if head != args.head_sha:
            print(f"PR #{pr} has moved on to {head[:7]}; this report is for {args.head_sha[:7]}")
            return 0
        from_fork = (pull["head"].get("repo") or {}).get("full_name") != args.repo
        body = render_artifact(args.artifact, from_fork)
        print(f"PR #{pr}: comment {upsert_comment(github, args.repo, pr, body)}")
    except (CommentError, OSError, KeyError) as err:
        print(f"angler github_comment: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
