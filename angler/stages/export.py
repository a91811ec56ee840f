"""`angler export`: Keras model -> TF Serving SavedModel, logged and registered in MLflow."""

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from angler.stages.options import (
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
    metrics: Annotated[Path, typer.Option(help="The evaluate stage's metrics.")],
    out: Annotated[Path, typer.Option(help="Model store: numbered version folders go here.")],
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Export the SavedModel TF Serving loads and register it in MLflow as `angler`.

    The version folder's number is the MLflow registry version; model.json beside it holds
    the folder's SHA-256, the params, the data version and the metrics.
    """
    import keras
    import mlflow
    import numpy as np
    import tensorflow as tf
    import yaml

    from angler import tracking
    from angler.export import ServingModule, save_serving_model
    from angler.model_store import directory_digest, publish_atomically
    from angler.params import load_params
    from angler.training import read_shards

    params = load_params(params_path)
    # compile=False: no optimizer state in what TF Serving loads (a third of the size)
    module = ServingModule(keras.saving.load_model(model, compile=False))
    warmup = read_shards(shards, "validation", params.export.warmup_requests)["url"].tolist()
    with tracking.resume_run(train_report) as run, tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / "saved_model"
        save_serving_model(module, saved, warmup)
        signature = mlflow.models.infer_signature(
            np.array(warmup[:2], dtype=object), module(np.array(warmup[:2], dtype=object)).numpy()
        )
        info = mlflow.tensorflow.log_model(
            module,
            name="model",
            signature=signature,
            registered_model_name=tracking.REGISTERED_MODEL,
            saved_model_kwargs={"signatures": {"serving_default": module.serve}},
            pip_requirements=[f"tensorflow=={tf.__version__}"],
        )
        version = int(info.registered_model_version)
        target = publish_atomically(saved, out, version)
        mlflow.log_artifacts(str(target), f"tf_serving/{version}")
        description = {
            "name": tracking.REGISTERED_MODEL,
            "version": version,
            "digest": directory_digest(target),
            "mlflow_run_id": run.info.run_id,
            "model_uri": f"models:/{tracking.REGISTERED_MODEL}/{version}",
            "data": tracking.code_and_data_tags(),
            "params": yaml.safe_load(params_path.read_text(encoding="utf-8")),
            "metrics": json.loads(metrics.read_text(encoding="utf-8")),
        }
        (out / "model.json").write_text(json.dumps(description, indent=2) + "\n")
        mlflow.log_dict(description, "model.json")
    log.info("exported %s version %d (%s)", description["name"], version, description["digest"])
