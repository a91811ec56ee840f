"""`angler evaluate`: model + test shards -> metrics, per-URL scores and plots."""

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.options import (
    KerasModelOption,
    ParamsOption,
    ShardsOption,
    TrainReportOption,
)

log = logging.getLogger(__name__)


def main(
    model: KerasModelOption,
    shards: ShardsOption,
    train_report: TrainReportOption,
    metrics: Annotated[Path, typer.Option(help="Where to write the metrics JSON.")],
    scores: Annotated[Path, typer.Option(help="Folder for per-URL scores, one file a slice.")],
    plots: Annotated[Path, typer.Option(help="Folder for the DVC plot data.")],
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Evaluate on the domain-disjoint test split and on the temporal slice.

    Chooses the operating threshold on the validation split for evaluate.target_fpr, then
    writes ROC AUC, PR AUC, TPR at 1% and 0.1% FPR, the rates at the operating threshold per
    slice and per source feed (worst benign source first), the per-URL scores and the ROC,
    PR, confusion and score-histogram plot data.
    """
    import keras
    import mlflow

    from angler.model import tracking
    from angler.model.evaluation import (
        evaluate_slices,
        evaluation_slices,
        operating_point,
        write_plots,
    )
    from angler.model.training import predict, read_shards
    from angler.params import load_params

    params = load_params(params_path)
    trained = keras.saving.load_model(model, compile=False)
    slices = evaluation_slices(
        read_shards(shards, "test"),
        read_shards(shards, "temporal"),
        params.evaluate.source_slices,
    )
    scored = {
        name: frame.assign(score=predict(trained, frame["url"])) for name, frame in slices.items()
    }
    scores.mkdir(parents=True, exist_ok=True)
    for name, frame in scored.items():
        frame.to_parquet(scores / f"{name}.parquet", index=False)
    validation = read_shards(shards, "validation")
    operating = operating_point(
        validation.assign(score=predict(trained, validation["url"])), params.evaluate
    )
    log.info(
        "operating threshold %.4f: validation FPR %.4f, TPR %.4f",
        operating["threshold"],
        operating["validation_fpr"],
        operating["validation_tpr"],
    )
    result = evaluate_slices(scored, operating)
    write_plots(scored, result, plots, params.evaluate)

    with tracking.resume_run(train_report):
        for name, values in result.items():
            mlflow.log_metrics(
                {f"{name}.{k}": v for k, v in values.items() if isinstance(v, (int, float))}
            )
        mlflow.log_artifacts(str(plots), "plots")
    metrics.parent.mkdir(parents=True, exist_ok=True)
    metrics.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, values in result.items():
        if name == "operating_point":
            continue
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items() if isinstance(v, float))
        log.info("%s: %s", name, shown or "no test URLs of these sources")
