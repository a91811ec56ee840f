"""The TF Serving model config parses as TF Serving's own proto, and its labels point at
versions it serves; a promotion file or environment gives exactly its pins, or an error."""

import re

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from angler.deploy.serving import (
    MODEL_ENV,
    Pin,
    Promotion,
    PromotionError,
    model_server_config,
    promotion_from_env,
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


STABLE = f"ANGLER_MODEL_VERSION=3\nANGLER_MODEL_DIGEST={DIGEST}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ANGLER_MODEL_VERSION=3\n", "missing ANGLER_MODEL_DIGEST"),
        (f"ANGLER_MODEL_VERSION=three\nANGLER_MODEL_DIGEST={DIGEST}\n", "positive integer"),
        (f"ANGLER_MODEL_VERSION=+3\nANGLER_MODEL_DIGEST={DIGEST}\n", "positive integer"),
        (f"ANGLER_MODEL_VERSION=3 \nANGLER_MODEL_DIGEST={DIGEST}\n", "positive integer"),
        (f"ANGLER_MODEL_VERSION=0\nANGLER_MODEL_DIGEST={DIGEST}\n", "positive integer"),
        (f"ANGLER_MODEL_VERSION={'9' * 5000}\nANGLER_MODEL_DIGEST={DIGEST}\n", "positive integer"),
        ("ANGLER_MODEL_VERSION=3\nANGLER_MODEL_DIGEST=md5:1\n", "sha256:<64 hex digits>"),
        (f"ANGLER_MODEL_VERSION=3\nANGLER_MODEL_DIGEST={DIGEST.upper()}\n", "sha256:<64 hex"),
        (f"ANGLER_MODEL_VERSION=3\nANGLER_MODEL_DIGEST={DIGEST}0\n", "sha256:<64 hex digits>"),
        ("just words\n", "expected KEY=VALUE"),
        (f"ANGLER_MODEL_VERSION=3\r\nANGLER_MODEL_DIGEST={DIGEST}\r\n", "got '3\\r'"),
        (STABLE + "ANGLER_MODEL_STORE=s3://evil/\n", ":3: unknown key 'ANGLER_MODEL_STORE'"),
        (STABLE + "AWS_ENDPOINT_URL=https://evil.example\n", "unknown key 'AWS_ENDPOINT_URL'"),
        (STABLE + "angler_model_version=4\n", "unknown key 'angler_model_version'"),
        (STABLE + "ANGLER_MODEL_VERSION =4\n", "unknown key 'ANGLER_MODEL_VERSION '"),
        (STABLE + "ANGLER_MODEL_VERSION=4\n", ":3: ANGLER_MODEL_VERSION given twice"),
        (STABLE + "ANGLER_CANARY_VERSION=\n", "ANGLER_CANARY_VERSION is empty"),
        (STABLE + "ANGLER_CANARY_VERSION=4\n", "ANGLER_CANARY_VERSION without ANGLER_CANARY"),
        (STABLE + f"ANGLER_CANARY_DIGEST={DIGEST}\n", "ANGLER_CANARY_DIGEST without"),
        (STABLE + f"ANGLER_CANARY_VERSION=v4\nANGLER_CANARY_DIGEST={DIGEST}\n", "positive"),
    ],
)
def test_bad_promotion_files_are_refused_with_the_reason(tmp_path, text, message):
    (tmp_path / MODEL_ENV).write_text(text)
    with pytest.raises(PromotionError, match=re.escape(message)) as refused:
        read_promotion(tmp_path / MODEL_ENV)
    assert "\n" not in str(refused.value)  # the CLI prints it as one line


def test_a_promotion_file_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / MODEL_ENV).write_bytes(b"ANGLER_MODEL_VERSION=\xff\n")
    with pytest.raises(PromotionError, match="not UTF-8"):
        read_promotion(tmp_path / MODEL_ENV)


def test_a_promotion_file_with_comments_and_a_canary_is_read(tmp_path):
    text = f"# pinned\n\n{STABLE}ANGLER_CANARY_VERSION=4\nANGLER_CANARY_DIGEST={DIGEST}\n"
    (tmp_path / MODEL_ENV).write_text(text)
    assert read_promotion(tmp_path / MODEL_ENV) == Promotion(Pin(3, DIGEST), Pin(4, DIGEST))


def test_the_environment_gives_only_the_four_pin_keys():
    environ = {
        "ANGLER_MODEL_VERSION": "3",
        "ANGLER_MODEL_DIGEST": DIGEST,
        "ANGLER_MODEL_STORE": "s3://angler-models/angler",  # the store option, not a pin
        "PATH": "/usr/bin",
    }
    assert promotion_from_env(environ) == Promotion(Pin(3, DIGEST))
    with pytest.raises(PromotionError, match="ANGLER_MODEL_DIGEST must be sha256"):
        promotion_from_env({**environ, "ANGLER_MODEL_DIGEST": "sha256:evil"})
    with pytest.raises(PromotionError, match="ANGLER_CANARY_VERSION must be a positive"):
        promotion_from_env({**environ, "ANGLER_CANARY_VERSION": "", "ANGLER_CANARY_DIGEST": ""})
