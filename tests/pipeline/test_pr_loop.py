"""Play whole pull requests: a copy of the repository, a branch with a params.yaml change, and
the scripts .github/workflows/pr.yml calls, called here in the workflow's order with its
arguments, with no DVC remote and no secrets (a fork's PR). The comment they leave is checked
like a reviewer would."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml

from angler.review.github_comment import MARKER, MAX_BODY

from helpers.git_repo import copy_checkout, git, pipeline_env
from helpers.github_markdown import readable
from helpers.paths import REPO_ROOT
from helpers.workflow_runner import EXPRESSION, SETUP_STEPS, Job, Step, job_env, run_steps

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr.yml"
# The job's `run:` steps, which `play_pr` plays in this order after the set-up.
STEPS = [
    *SETUP_STEPS,
    Step(".github/scripts/dvc-remote.sh"),
    Step('.github/scripts/base-pipeline.sh "$BASE_SHA" "$RUNNER_TEMP/angler-base"'),
    Step(".github/scripts/pipeline.sh"),
    Step(".github/scripts/dvc-push.sh"),
    Step(
        '.github/scripts/pr-report.sh --base-sha "$BASE_SHA" --base-ref "$BASE_REF"'
        ' --head-ref "$HEAD_REF" --pr "$PR_NUMBER" --reproduced-rev "$RUNNER_TEMP/angler-base/rev"'
        " --out comment",
        "${{ !cancelled() }}",
    ),
]
HOSTILE_BRANCH = "$(touch${IFS}PWNED)"
DATA_STAGES = ["ingest", "label", "split", "featurize", "validate"]
MODEL_STAGES = ["train", "evaluate", "export", "monitor"]  # monitor reads the model's scores


def context(base_sha: str, branch: str, secrets: dict[str, str]) -> dict[str, str]:
    """A fork's pull request: every secret and variable empty but those given."""
    unset = {
        name: ""
        for name in EXPRESSION.findall(WORKFLOW.read_text())
        if name.startswith(("secrets.", "vars."))
    }
    return (
        unset
        | secrets
        | {
            "github.event.pull_request.base.sha": base_sha,
            "github.base_ref": "main",
            "github.head_ref": branch,
            "github.event.pull_request.number": "7",
        }
    )


def play_pr(repo, branch: str, secrets: dict[str, str] | None = None, **changes) -> dict:
    """Commit `section.key` param changes on a new branch off main, then run the PR job."""
    git(repo, "checkout", "-q", "--force", "-B", branch, "main")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        params[section][key] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    git(repo, "commit", "-qam", f"change {', '.join(changes)}")
    env = job_env(
        WORKFLOW, "pipeline", context(git(repo, "rev-parse", "main"), branch, secrets or {})
    )
    job = Job(repo, env)
    base_dir = str(job.temp / "angler-base")
    job.call(".github/scripts/dvc-remote.sh")
    job.call(".github/scripts/base-pipeline.sh", env["BASE_SHA"], base_dir)
    job.call(".github/scripts/pipeline.sh")
    job.call(".github/scripts/dvc-push.sh")
    job.call(
        ".github/scripts/pr-report.sh",
        *("--base-sha", env["BASE_SHA"], "--base-ref", env["BASE_REF"]),
        *("--head-ref", env["HEAD_REF"], "--pr", env["PR_NUMBER"]),
        *("--reproduced-rev", f"{base_dir}/rev", "--out", "comment"),
        always=True,
    )
    body = (repo / "comment" / "comment.md").read_text()
    return {
        "steps": job.steps,
        "body": body,
        "text": readable(body),
        "report": json.loads((repo / "comment" / "report.json").read_text()),
    }


@pytest.fixture(scope="module")
def repo(reproduced_main, tmp_path_factory):
    """A developer's checkout of main that ran its pipeline: the base's outputs are cached
    (with none, base-pipeline.sh's `dvc repro` rebuilds them, as test_reproducible's clone does)."""
    return copy_checkout(reproduced_main, tmp_path_factory.mktemp("pr") / "angler")


TOKEN_URL = "https://bank-login.example/verify?session=SECRET-TOKEN-123"


@pytest.fixture(scope="module")
def served_traffic(reproduced_main, tmp_path_factory) -> Path:
    """A month of main's demo feeds replayed as served traffic, and a URL with a token."""
    folder = tmp_path_factory.mktemp("served")
    replay = [str(Path(sys.executable).with_name("angler")), "replay", "--month", "2024-12"]
    out = ["--out", str(folder / "2024-12.parquet")]
    subprocess.run([*replay, *out], cwd=reproduced_main, check=True, capture_output=True)
    (folder / "today.csv").write_text(f"url,score,time\n{TOKEN_URL},0.99,2024-12-31T23:00:00Z\n")
    return folder


@pytest.fixture(scope="module")
def epochs_pr(repo, served_traffic):
    variables = {"vars.ANGLER_SHADOW_TRAFFIC": str(served_traffic)}
    return play_pr(repo, HOSTILE_BRANCH, variables, **{"train.epochs": 2})


def test_the_workflow_runs_the_steps_played_here():
    assert run_steps(WORKFLOW, "pipeline") == STEPS


def table_row(text: str, first_cells: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {first_cells} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_pr_runs_only_the_model_stages(epochs_pr):
    pipeline = epochs_pr["steps"]["pipeline.sh"]
    assert pipeline.returncode == 0, pipeline.output
    assert re.findall(r"Running stage '([a-z]+)'", pipeline.output) == MODEL_STAGES


def test_comment_shows_the_param_change(epochs_pr):
    assert table_row(epochs_pr["text"], "train.epochs")[1:] == ["3", "2"]
    assert "promote.bootstrap_samples" not in epochs_pr["text"]  # unchanged params stay out


def test_comment_metric_deltas_have_the_right_sign(epochs_pr, repo):
    base = yaml.safe_load(
        git(repo, "show", f"{epochs_pr['report']['pull_request']['base']}:metrics/evaluate.json")
    )
    new = json.loads((repo / "metrics" / "evaluate.json").read_text())
    for label, key in (("ROC AUC", "roc_auc"), ("TPR@1%FPR", "tpr_at_fpr_1pct")):
        cells = table_row(epochs_pr["text"], f"test | {label}")
        old_value, new_value, delta = (float(cell) for cell in cells[2:])
        assert (old_value, new_value) == (
            pytest.approx(base["test"][key], abs=5e-5),
            pytest.approx(new["test"][key], abs=5e-5),
        )
        assert delta == pytest.approx(new["test"][key] - base["test"][key], abs=1e-4)


def test_comment_shows_data_stages_cached_and_model_stages_rerun(epochs_pr):
    text = epochs_pr["text"]
    for stage in DATA_STAGES:
        assert table_row(text, stage)[1] == "♻️ cached"
    for stage in MODEL_STAGES:
        assert table_row(text, stage)[1] == "▶️ reran"
    assert "params changed: train.epochs" in table_row(text, "train")[2]
    assert "inputs changed: models/keras" in table_row(text, "evaluate")[2]
    assert "✅ All" in text and "expectations passed" in text


def test_verdict_compares_with_main_and_sets_the_exit_code(epochs_pr):
    """Two epochs against main's three, on seeded CPU training: the same numbers every run.
    Nothing is better with 95% confidence, so the verdict is hold and the job passes."""
    verdict = epochs_pr["report"]["verdict"]
    assert verdict["decision"] == "hold"
    assert verdict["reasons"][-1] == "no metric is better than the champion with 95% confidence"
    assert "**Verdict: hold**" in epochs_pr["text"]
    assert set(verdict["comparisons"]) == {"roc_auc", "tpr_at_fpr_1pct", "worst_benign_fpr"}
    assert table_row(epochs_pr["text"], "ROC AUC")[0] == "ROC AUC"
    report_step = epochs_pr["steps"]["pr-report.sh"]
    assert report_step.returncode == (1 if verdict["decision"] == "reject" else 0), (
        report_step.output
    )


def test_comment_shows_the_served_traffic_and_no_served_url(epochs_pr, served_traffic):
    """pr.yml's ANGLER_SHADOW_TRAFFIC (here a folder standing in for the read-only bucket):
    the candidate on the served window, sites only, never a URL, path or query string."""
    served = epochs_pr["report"]["served_traffic"]
    assert served["status"] == "compared" and served["files"] == 2
    window = len(pd.read_parquet(served_traffic / "2024-12.parquet")) + 1
    assert served["urls"] == window and served["unusable"] == 0
    assert served["flagged"]["served"] >= 1  # the token URL was served 0.99
    assert "Served traffic (shadow run)" in epochs_pr["text"]
    written = epochs_pr["body"] + json.dumps(epochs_pr["report"])
    for part in ("SECRET-TOKEN-123", "session=", "/verify", "bank-login.example/"):
        assert part not in written


def test_comment_has_curves_and_fits_on_github(epochs_pr):
    body = epochs_pr["body"]
    assert body.startswith(MARKER) and len(body) <= MAX_BODY
    assert body.count("```mermaid") == 2 and body.count("    line [") == 4  # main and PR


def test_hostile_branch_name_is_rendered_inert_and_never_run(epochs_pr, repo):
    assert not list(repo.rglob("PWNED")) and not list(repo.parent.rglob("PWNED"))
    assert "$(touch" not in epochs_pr["body"]  # `$` is escaped: no math, no shell
    assert f"**{HOSTILE_BRANCH}** against **main@" in epochs_pr["text"]


def test_with_the_remotes_it_pushes_to_the_pr_remote_only_and_holds(repo, tmp_path_factory):
    trusted, pr_scoped = tmp_path_factory.mktemp("dvc-remote"), tmp_path_factory.mktemp("pr-remote")
    secrets = {"secrets.DVC_REMOTE_URL": str(trusted), "secrets.DVC_PR_REMOTE_URL": str(pr_scoped)}
    pr = play_pr(repo, "curves", secrets, **{"evaluate.curve_points": 150})
    assert all(step.returncode in (0, None) for step in pr["steps"].values())
    assert "no DVC remote" not in pr["text"]
    for stage in [*DATA_STAGES, "train"]:
        assert table_row(pr["text"], stage)[1] == "♻️ cached"
    assert "params changed: evaluate.curve_points" in table_row(pr["text"], "evaluate")[2]
    # The same model scored twice: equal, so it holds rather than being promoted.
    assert pr["report"]["verdict"]["decision"] == "hold"
    assert all(c["delta"] == 0 for c in pr["report"]["verdict"]["comparisons"].values())
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    model = next(o for o in lock["stages"]["export"]["outs"] if o["path"] == "models/angler")
    stored = Path("files") / "md5" / model["md5"][:2] / model["md5"][2:]
    assert (pr_scoped / stored).is_file()
    # What promotion reads got nothing from the PR run: not the model, not anything.
    assert not (trusted / stored).exists() and not any(p.is_file() for p in trusted.rglob("*"))
    dvc = str(Path(sys.executable).with_name("dvc"))
    verify = subprocess.run(
        [dvc, "config", "--local", "remote.ci.verify"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    assert verify == "true"  # every object pulled from the trusted remote is hash-checked


def test_broken_data_fails_the_pr_and_names_the_expectation(repo):
    pr = play_pr(repo, "fewer-rows", **{"data.demo_size": 400})
    assert pr["steps"]["pipeline.sh"].returncode != 0
    assert pr["steps"]["pr-report.sh"].returncode == 1
    assert pr["report"]["verdict"]["decision"] == "reject"
    failed = table_row(pr["text"], "labelled")
    assert failed[1] == "expect_table_row_count_to_be_between"
    assert "❌ 1 of" in pr["text"]
    for stage in MODEL_STAGES:
        assert table_row(pr["text"], stage)[1] == "⛔ not completed"


def test_a_params_typo_is_reported_not_crashed_on(repo):
    git(repo, "checkout", "-q", "--force", "-B", "typo", "main")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epoch"] = params["train"].pop("epochs")
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("angler")),
            "report",
            "--base",
            "main",
            "--out",
            "typo",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    text = readable((repo / "typo" / "comment.md").read_text())
    assert "**Verdict: reject**" in text
    assert "params.yaml is invalid: unknown key(s) train.epoch" in text


def test_a_pr_is_judged_by_mains_promotion_rules_not_its_own(repo):
    """The attack of issue 28: a PR that writes its own bar. Judged by its own rules, this
    PR's floor of 1.0 would reject the (unchanged) model; main's rules hold it, and the
    comment shows both."""
    pr = play_pr(repo, "own-rules", **{"promote.min_roc_auc": 1.0, "promote.max_roc_auc_loss": 1.0})
    main = yaml.safe_load(git(repo, "show", "main:params.yaml"))["promote"]
    verdict = pr["report"]["verdict"]
    assert verdict["decision"] == "hold", verdict
    judge = pr["report"]["pull_request"]["base_name"]  # main@<sha>, as pr-report.sh names it
    assert judge.startswith("main@")
    assert verdict["rules"] == {
        "judged_by": judge,
        "changed": [
            {"name": "promote.max_roc_auc_loss", "base": main["max_roc_auc_loss"], "head": 1.0},
            {"name": "promote.min_roc_auc", "base": main["min_roc_auc"], "head": 1.0},
        ],
    }
    assert f"note: this PR changes the promotion rules: judged by {judge}'s" in pr["text"]
    row = table_row(pr["text"], "promote.min_roc_auc")
    assert row == ["promote.min_roc_auc", str(main["min_roc_auc"]), "1.0"]


def test_a_nan_rule_is_one_line_and_a_reject(repo):
    """No stage reads `promote:`, so the pipeline is up to date; the report refuses it."""
    pr = play_pr(repo, "nan-rule", **{"promote.min_roc_auc": float("nan")})
    assert pr["steps"]["pr-report.sh"].returncode == 1
    assert "Traceback" not in pr["steps"]["pr-report.sh"].output
    assert pr["report"]["verdict"]["decision"] == "reject"
    assert "params.yaml is invalid: promote.min_roc_auc: must be a finite number" in pr["text"]


def run_report(repo: Path, base: str, out: str, *options: str) -> tuple[dict, str]:
    """`angler report --base BASE` on the checkout as it stands, which must hold (exit 0),
    without served traffic: its report.json, and what it logged."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("angler")), "report", "--base", base]
        + ["--traffic", "", "--out", out, *options],
        cwd=repo,
        env=pipeline_env(repo),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((repo / out / "report.json").read_text()), result.stderr


@contextmanager
def mains_weights_away(repo: Path) -> Iterator[None]:
    """main's exported model out of the DVC cache: its weights, which no other model has,
    set aside (a run that rebuilds them puts them back)."""
    stages = yaml.safe_load(git(repo, "show", "main:dvc.lock"))["stages"]
    (model,) = [out for out in stages["export"]["outs"] if out["path"] == "models/angler"]
    objects = repo / ".dvc" / "cache" / "files" / "md5"
    listing = json.loads((objects / model["md5"][:2] / model["md5"][2:]).read_text())
    (weights,) = [
        f["md5"] for f in listing if f["relpath"].endswith("variables.data-00000-of-00001")
    ]
    entry = objects / weights[:2] / weights[2:]
    away = entry.with_name(entry.name + ".away")
    entry.rename(away)
    try:
        yield
    finally:
        if entry.exists():
            away.unlink()
        else:
            away.rename(entry)


def test_without_mains_model_and_no_rebuild_the_verdict_holds_and_says_how(repo):
    """A fallback of angler/review/report.py through `angler report`: main's exported model
    is in neither the DVC cache nor the remote, and --no-rebuild-base forbids rebuilding
    it. The PR is epochs_pr's change, so its stages come back from DVC's run cache when that
    one ran first."""
    play_pr(repo, "no-base-model", **{"train.epochs": 2})
    with mains_weights_away(repo):
        report, _ = run_report(repo, "main", "comment-no-base", "--no-rebuild-base")
    verdict = report["verdict"]
    assert verdict["decision"] == "hold" and verdict["comparisons"] == {}
    (reason,) = verdict["reasons"]
    assert reason.startswith("cannot compare with the champion: models/angler at ")
    assert reason.endswith("`angler report --base main` without --no-rebuild-base reproduces it")


def test_without_mains_model_the_report_rebuilds_it_and_shows_progress(repo):
    """The other fallback: main's model is rebuilt in a scratch worktree (`dvc repro
    export` there) and compared with, and the rebuild's stage lines are logged as it goes."""
    play_pr(repo, "rebuilt-base-model", **{"train.epochs": 2})
    with mains_weights_away(repo):
        report, logged = run_report(repo, "main", "comment-rebuilt")
    assert "reproducing the base revision's model instead" in logged
    assert "angler report: base revision: Running stage 'export':" in logged
    assert "angler report: base revision: " in logged.split("Running stage 'export':")[1]
    assert len(git(repo, "worktree", "list").splitlines()) == 1  # the scratch one is gone
    verdict = report["verdict"]
    assert verdict["decision"] == "hold", verdict
    assert set(verdict["comparisons"]) == {"roc_auc", "tpr_at_fpr_1pct", "worst_benign_fpr"}


def test_a_data_change_is_judged_with_a_caveat_on_the_test_urls(repo):
    """A PR that changes `data:` may move URLs between the splits, so main's model may have
    trained on the PR's test URLs. The raised length limit changes no kept URL: ingest,
    validate and train (which reads the gate's report) rerun, the model is main's, and the
    verdict holds with the caveat."""
    pr = play_pr(repo, "longer-urls", **{"data.max_url_length": 9000})
    assert table_row(pr["text"], "ingest")[1] == "▶️ reran"
    assert table_row(pr["text"], "label")[1] == "♻️ cached"  # the same URLs
    assert table_row(pr["text"], "evaluate")[1] == "♻️ cached"  # the same model
    verdict = pr["report"]["verdict"]
    assert verdict["decision"] == "hold", verdict
    (caveat,) = verdict["caveats"]
    assert caveat.startswith("this PR changes the data or the split, so main@")
    assert caveat.endswith("model may have trained on some of these test URLs")
    assert f"- note: {caveat}" in pr["text"]


def test_a_champion_without_a_threshold_is_compared_on_what_both_have(repo):
    """A champion exported before model.json recorded an operating threshold: main's
    model with the key removed and committed (`dvc commit`) on a branch, as such an export
    left it. The head is that branch plus a README line, so the models are equal: the
    verdict holds, compares ROC AUC and TPR only, and says what it left out."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    env = pipeline_env(repo)
    git(repo, "checkout", "-q", "--force", "-B", "old-champion", "main")
    subprocess.run([dvc, "checkout", "--force"], cwd=repo, env=env, check=True, capture_output=True)
    model_json = repo / "models" / "angler" / "model.json"
    meta = json.loads(model_json.read_text())
    del meta["operating_threshold"]
    model_json.write_text(json.dumps(meta, indent=2))
    commit = [dvc, "commit", "--force", "export"]
    subprocess.run(commit, cwd=repo, env=env, check=True, capture_output=True)
    git(repo, "commit", "-qam", "a champion exported without a threshold")
    git(repo, "checkout", "-q", "-B", "readme-only", "old-champion")
    with (repo / "README.md").open("a") as readme:
        readme.write("\nA line.\n")
    git(repo, "commit", "-qam", "a README line")
    report, _ = run_report(repo, "old-champion", "comment-no-threshold")
    verdict = report["verdict"]
    assert verdict["decision"] == "hold", verdict
    assert set(verdict["comparisons"]) == {"roc_auc", "tpr_at_fpr_1pct"}
    assert all(c["delta"] == 0 for c in verdict["comparisons"].values())
    assert verdict["caveats"] == [
        "the champion was exported before models had an operating threshold, so the worst "
        "benign source's false-positive rate is not compared with it"
    ]


COMMENT_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr-comment.yml"
POSTER = (
    'python3 -m angler.review.github_comment --repo "$REPO" \\\n'
    '  --artifact "$RUNNER_TEMP/angler-report" --head-sha "$HEAD_SHA"'
)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"  # a runner's python3, none of the project's packages


def post_comment(repo: Path, report: dict, pull, api: str, head_sha: str, where: Path):
    """pr-comment.yml's job, played: the default branch checked out sparsely (`angler/`
    only), the pr run's artifact (report.json, pr-number) downloaded into RUNNER_TEMP, and
    the step's script run by the system's python3 with nothing installed, against the
    stand-in GitHub API (github.com cannot run here)."""
    checkout = where / "poster"
    if not checkout.exists():
        git(where, "clone", "-q", "--sparse", "--branch", "main", str(repo), "poster")
        git(checkout, "sparse-checkout", "set", "angler")
    artifact = where / "runner" / "angler-report"
    artifact.mkdir(parents=True, exist_ok=True)
    (artifact / "report.json").write_text(json.dumps(report))
    (artifact / "pr-number").write_text(f"{pull.number}\n")
    env = {
        "PATH": SYSTEM_PATH,
        "GH_TOKEN": "a token",
        "REPO": pull.repo,
        "HEAD_SHA": head_sha,
        "RUNNER_TEMP": str(where / "runner"),
        "GITHUB_API_URL": api,
    }
    return subprocess.run(
        ["bash", "-e", "-c", POSTER], cwd=checkout, env=env, capture_output=True, text=True
    )


def test_the_comment_workflow_posts_then_updates_and_skips_a_moved_pr(epochs_pr, repo, tmp_path):
    from helpers.github_stand_in import PullRequest, github_stand_in

    (step,) = run_steps(COMMENT_WORKFLOW, "comment")
    assert step.run == POSTER and set(step.env) == {"GH_TOKEN", "REPO", "HEAD_SHA"}
    pull = PullRequest("angler-ml/angler", 7, "f00d", head_repo="angler-ml/angler")
    human = {"body": MARKER + " a reviewer quoting the marker", "user": {"type": "User"}}
    pull.comments[1] = dict(human)
    with github_stand_in(pull) as api:
        first = post_comment(repo, epochs_pr["report"], pull, api, "f00d", tmp_path)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "PR #7: comment created"
        again = post_comment(repo, epochs_pr["report"], pull, api, "f00d", tmp_path)
        assert again.stdout.strip() == "PR #7: comment updated"
        moved = post_comment(repo, epochs_pr["report"], pull, api, "0ld5ha", tmp_path)
        assert "has moved on to f00d" in moved.stdout and moved.returncode == 0
    assert not (tmp_path / "poster" / "tests").exists()
    assert pull.comments[1] == human and len(pull.comments) == 2  # only the bot's is edited
    comment = pull.comments[2]
    assert pull.edits == 1 and comment["body"].startswith(MARKER)
    assert "Served traffic (shadow run)" in readable(comment["body"])
    assert comment["body"] == epochs_pr["body"]  # the poster renders what the PR run rendered


def test_a_fork_prs_comment_has_no_served_traffic_section(epochs_pr, repo, tmp_path):
    from helpers.github_stand_in import PullRequest, github_stand_in

    pull = PullRequest("angler-ml/angler", 8, "f00d", head_repo="someone/angler")
    with github_stand_in(pull) as api:
        posted = post_comment(repo, epochs_pr["report"], pull, api, "f00d", tmp_path)
    assert posted.returncode == 0, posted.stderr
    (comment,) = pull.comments.values()
    text = readable(comment["body"])
    assert "Served traffic (shadow run)" in text and "Flag rate change" not in text
    assert "not shown for a pull request from a fork" in text
