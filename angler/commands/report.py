"""`angler report`: the pull-request comment and its verdict."""

import json
from pathlib import Path
from typing import Annotated

import typer


def main(
    base: Annotated[str, typer.Option(help="Git revision to compare with (the PR's base).")],
    base_name: Annotated[str, typer.Option(help="Name of the base in the comment.")] = "",
    head_name: Annotated[
        str,
        typer.Option(help="Name of the PR branch in the comment (default: the checkout's branch)."),
    ] = "",
    pr: Annotated[str, typer.Option(help="Pull request number.")] = "",
    remote: Annotated[
        bool, typer.Option(help="Whether this run had the DVC remote (else: demo data).")
    ] = False,
    out: Annotated[
        Path, typer.Option(help="Folder for comment.md, report.json, pr-number.")
    ] = Path("comment"),
    traffic: Annotated[
        str,
        typer.Option(
            help="Served traffic for the shadow run: a folder, or an fsspec glob read-only "
            "to this job ('' skips it)."
        ),
    ] = "traffic",
    allow_list: Annotated[
        Path | None,
        typer.Option(
            help="Sites to count as probable false positives when newly flagged, "
            "one registered domain a line, besides the corpus's benign sites."
        ),
    ] = None,
    rebuild_base: Annotated[
        bool,
        typer.Option(help="Reproduce the base's model when no DVC cache or remote has it."),
    ] = True,
) -> None:
    """Render the pull-request comment and the champion/challenger verdict.

    Params and metrics diff against --base, data checks, stage summary, curves, MLflow run,
    the champion/challenger verdict and the shadow run on served traffic.

    Run after `dvc repro`, also when it failed. Exits 1 when the verdict is reject."""
    from angler.review.markdown import render_comment
    from angler.review.report import PullRequest, build_report
    from angler.review.report_schema import check_report

    request = PullRequest(base, base_name or base, head_name, pr, remote)
    result = build_report(
        request, rebuild_base=rebuild_base, traffic=traffic, allow_list=allow_list
    )
    check_report(json.loads(json.dumps(result, default=str)))  # what the poster will accept
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (out / "comment.md").write_text(render_comment(result), encoding="utf-8")
    (out / "pr-number").write_text(pr + "\n", encoding="utf-8")
    decision = result["verdict"]
    typer.echo(f"verdict: {decision['decision']}: " + "; ".join(decision["reasons"]))
    typer.echo(f"comment written to {out / 'comment.md'}")
    if decision["decision"] == "reject":
        raise typer.Exit(1)
