"""The TF Serving model config parses as TF Serving's own proto, and its labels point at
versions it serves."""

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from angler.deploy.serving import (
    MODEL_ENV,
    Pin,
    Promotion,
    PromotionError,
    model_server_config,
    read_promotion,
)

from helpers.paths import REPO_ROOT

DIGEST = "sha256:" + "ab" * 32
PROMOTIONS = [
    *[
        read_promotion(path)
        for path in sorted((REPO_ROOT / "k8s" / "overlays").glob(f"*/{MODEL_ENV}"))
    ],
    Promotion(Pin(3, DIGEST), Pin(4, DIGEST)),
]


@pytest.mark.parametrize("promotion", PROMOTIONS)
def test_model_config_parses_and_labels_point_at_served_versions(promotion):
    config = text_format.Parse(
        model_server_config(promotion), model_server_config_pb2.ModelServerConfig()
    )
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == (
        "angler",
        "/models/angler",
        "tensorflow",
    )
    served = list(model.model_version_policy.specific.versions)
    assert served == [pin.version for pin in promotion.pins()]
    assert set(model.version_labels.values()) <= set(served)
    assert model.version_labels["stable"] == promotion.stable.version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ANGLER_MODEL_VERSION=3\n", "missing ANGLER_MODEL_DIGEST"),
        (f"ANGLER_MODEL_VERSION=three\nANGLER_MODEL_DIGEST={DIGEST}\n", "invalid literal"),
        ("ANGLER_MODEL_VERSION=3\nANGLER_MODEL_DIGEST=md5:1\n", "sha256:<64 hex digits>"),
        (f"ANGLER_MODEL_VERSION=0\nANGLER_MODEL_DIGEST={DIGEST}\n", "positive"),
        ("just words\n", "expected KEY=VALUE"),
    ],
)
def test_bad_promotion_files_are_refused_with_the_reason(tmp_path, text, message):
    (tmp_path / MODEL_ENV).write_text(text)
    with pytest.raises(PromotionError, match=message):
        read_promotion(tmp_path / MODEL_ENV)
