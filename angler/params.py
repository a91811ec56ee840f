"""`params.yaml`, read once into typed, frozen dataclasses.

Unknown or missing keys are errors that name the key: a typo in a pull request must not be
silently ignored and train with the default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from angler.errors import AnglerError


class ParamsError(AnglerError):
    """params.yaml is missing, malformed or has a wrong key or value."""


@dataclass(frozen=True)
class BaseParams:
    seed: int


@dataclass(frozen=True)
class DataParams:
    corpus: str
    demo_size: int
    max_url_length: int
    sample_fraction: float  # share of the sites ingest keeps, by a seeded hash; 1.0 for all

    def __post_init__(self) -> None:
        if not 0 < self.sample_fraction <= 1:
            raise ParamsError("data.sample_fraction must be in (0, 1]")

    def corpus_path(self, root: Path) -> Path | None:
        """The corpus directory resolved against the project root; None for the demo."""
        return None if self.corpus == "demo" else (root / self.corpus).resolve()


@dataclass(frozen=True)
class SplitParams:
    validation_fraction: float
    test_fraction: float
    temporal_months: int

    def __post_init__(self) -> None:
        fractions = (self.validation_fraction, self.test_fraction)
        if min(fractions) < 0 or sum(fractions) >= 1:
            raise ParamsError(
                "split: validation_fraction and test_fraction must be >= 0 and sum to < 1"
            )
        if self.temporal_months < 0:
            raise ParamsError("split.temporal_months must be >= 0")


@dataclass(frozen=True)
class FeaturizeParams:
    shards: int
    suspicious_tokens: tuple[str, ...]


@dataclass(frozen=True)
class ValidateParams:
    min_rows: int
    min_phishing_share: float
    max_phishing_share: float
    min_url_length: int
    max_duplicate_rate: float
    max_shortcut_auc: float


@dataclass(frozen=True)
class ModelParams:
    max_length: int  # bytes of url_key the CNN reads
    ngram_buckets: int  # hash buckets shared by byte n-grams and word tokens
    bag_dim: int
    position_tokens: bool  # words tagged subdomain/name/TLD/path, in the bag and the TF-IDF
    byte_embedding_dim: int
    conv_filters: int  # per kernel size; 0 turns the CNN branch off
    conv_kernel_sizes: tuple[int, ...]
    hidden_units: int
    dropout: float
    tfidf_c: float  # C of the TF-IDF logistic regression averaged in; 0 turns it off

    def __post_init__(self) -> None:
        if not 1 <= self.ngram_buckets <= 2**32:  # the n-gram hash picks from 32 bits
            raise ParamsError("model.ngram_buckets must be between 1 and 2^32")


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    batch_size: int
    learning_rate: float
    early_stopping_patience: int
    max_train_rows: int  # 0 for all; a size knob for quick runs
    shuffle_buffer: int


@dataclass(frozen=True)
class EvaluateParams:
    target_fpr: float  # the operating threshold's false-positive rate on validation
    fpr_unit: str  # what target_fpr counts: each benign "url", or each benign "domain" once
    histogram_bins: int
    curve_points: int  # points kept of each ROC and PR curve for plots
    source_slices: dict[str, tuple[str, ...]]  # test slices of named sources only

    def __post_init__(self) -> None:
        if not 0 < self.target_fpr < 0.5:
            raise ParamsError("evaluate.target_fpr must be between 0 and 0.5")
        if self.fpr_unit not in ("url", "domain"):
            raise ParamsError("evaluate.fpr_unit must be url or domain")
        reserved = {"test", "temporal", "operating_point"} & set(self.source_slices)
        if reserved:
            raise ParamsError(f"evaluate.source_slices: {', '.join(sorted(reserved))} is taken")


@dataclass(frozen=True)
class ExportParams:
    warmup_requests: int  # URLs of the validation split in the TF Serving warmup file


@dataclass(frozen=True)
class PromoteParams:
    """The champion/challenger verdict (angler/review/verdict.py)."""

    bootstrap_samples: int
    confidence: float  # of the paired bootstrap intervals
    max_roc_auc_loss: float  # non-inferiority margins against the champion
    max_tpr_loss: float
    max_benign_fpr_increase: float  # worst benign source's FPR at the operating threshold
    min_roc_auc: float  # floors every candidate must clear, the first one included
    min_tpr_at_fpr_1pct: float
    max_worst_benign_fpr: float

    def __post_init__(self) -> None:
        if self.bootstrap_samples < 100:
            raise ParamsError("promote.bootstrap_samples must be at least 100")
        if not 0.5 < self.confidence < 1:
            raise ParamsError("promote.confidence must be between 0.5 and 1")


@dataclass(frozen=True)
class MonitorParams:
    """Drift of served traffic against the reference period (angler/monitor/reference.py)."""

    traffic_phishing_share: float  # class mix the reference is reweighted to
    min_traffic_urls: int
    psi_bins: int
    max_psi: float  # per lexical feature, the TLD mix and the score
    max_ks: float
    max_unseen_tld_share: float
    max_unseen_domain_share: float
    score_quantiles: tuple[float, ...]
    max_score_quantile_shift: float

    def __post_init__(self) -> None:
        if not 0 < self.traffic_phishing_share < 1:
            raise ParamsError("monitor.traffic_phishing_share must be between 0 and 1")
        if self.psi_bins < 2:
            raise ParamsError("monitor.psi_bins must be at least 2")
        if not self.score_quantiles or not all(0 < q < 1 for q in self.score_quantiles):
            raise ParamsError("monitor.score_quantiles must be a list of levels in (0, 1)")


@dataclass(frozen=True)
class Params:
    base: BaseParams
    data: DataParams
    split: SplitParams
    featurize: FeaturizeParams
    validate: ValidateParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    export: ExportParams
    promote: PromoteParams
    monitor: MonitorParams


def load_params(path: Path) -> Params:
    """Read and type-check params.yaml."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ParamsError(f"cannot read {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path} is not valid YAML: {err}") from None
    return _build(Params, raw, "")


def _build(cls: type, raw: object, where: str):
    if not isinstance(raw, dict):
        raise ParamsError(f"{where or 'params.yaml'}: expected a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(raw) - set(fields))
    missing = sorted(set(fields) - set(raw))
    if unknown:
        raise ParamsError(f"unknown key(s) {', '.join(where + k for k in unknown)}")
    if missing:
        raise ParamsError(f"missing key(s) {', '.join(where + k for k in missing)}")
    values = {name: _convert(hints[name], raw[name], f"{where}{name}") for name in fields}
    return cls(**values)


def _convert(hint, value, where: str):
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where + ".")
    if typing.get_origin(hint) is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{where}: expected a mapping, got {value!r}")
        key_hint, value_hint = typing.get_args(hint)
        return {
            _convert(key_hint, key, where): _convert(value_hint, item, f"{where}.{key}")
            for key, item in value.items()
        }
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            raise ParamsError(f"{where}: expected a list, got {value!r}")
        return tuple(_convert(typing.get_args(hint)[0], item, where) for item in value)
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is not bool and isinstance(value, bool)):
        raise ParamsError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
