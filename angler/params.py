"""`params.yaml`, read once into typed, frozen dataclasses.

Unknown or missing keys are errors that name the key: a typo in a pull request must not be
silently ignored and train with the default. Every number is checked against its meaning
when it is read (`Bounds` in its type): finite, fractions in [0, 1], counts at least 1. A
NaN threshold would make every comparison false and pass whatever it guards.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml

from angler.errors import AnglerError


class ParamsError(AnglerError):
    """params.yaml is missing, malformed or has a wrong key or value."""


@dataclass(frozen=True)
class Bounds:
    """The range a number's meaning allows; an open end excludes its value."""

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False

    def check(self, value: float, where: str) -> None:
        if not math.isfinite(value):
            raise ParamsError(f"{where}: must be a finite number, got {value!r}")
        below = value <= self.low if self.open_low else value < self.low
        above = value >= self.high if self.open_high else value > self.high
        if below or above:
            raise ParamsError(f"{where}: must be {self.describe()}, got {value!r}")

    def describe(self) -> str:
        if math.isinf(self.high):
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


Count = Annotated[int, Bounds(1)]  # at least one
NonNegative = Annotated[int, Bounds(0)]
Fraction = Annotated[float, Bounds(0, 1)]
Rate = Annotated[float, Bounds(0, 1, open_high=True)]  # a dropout rate: 1 drops everything
Positive = Annotated[float, Bounds(0, open_low=True)]
NonNegativeFloat = Annotated[float, Bounds(0)]


@dataclass(frozen=True)
class BaseParams:
    seed: NonNegative


@dataclass(frozen=True)
class DataParams:
    corpus: str
    demo_size: Count
    max_url_length: Count
    # share of the sites ingest keeps, by a seeded hash; 1.0 for all
    sample_fraction: Annotated[float, Bounds(0, 1, open_low=True)]

    def corpus_path(self, root: Path) -> Path | None:
        """The corpus directory resolved against the project root; None for the demo."""
        return None if self.corpus == "demo" else (root / self.corpus).resolve()


@dataclass(frozen=True)
class SplitParams:
    validation_fraction: Fraction
    test_fraction: Fraction
    temporal_months: NonNegative

    def __post_init__(self) -> None:
        if self.validation_fraction + self.test_fraction >= 1:
            raise ParamsError("split: validation_fraction and test_fraction must sum to < 1")


@dataclass(frozen=True)
class FeaturizeParams:
    shards: Count
    suspicious_tokens: tuple[str, ...]


@dataclass(frozen=True)
class ValidateParams:
    min_rows: NonNegative
    min_phishing_share: Fraction
    max_phishing_share: Fraction
    min_url_length: NonNegative
    max_duplicate_rate: Fraction
    max_shortcut_auc: Annotated[float, Bounds(0.5, 1)]


@dataclass(frozen=True)
class ModelParams:
    max_url_bytes: Count  # bytes of each URL every branch reads, in training and serving
    max_length: Count  # bytes of url_key the CNN reads
    # hash buckets shared by byte n-grams and word tokens; the n-gram hash picks from 32 bits
    ngram_buckets: Annotated[int, Bounds(1, 2**32)]
    bag_dim: Count
    position_tokens: bool  # words tagged subdomain/name/TLD/path, in the bag and the TF-IDF
    piece_dropout: Rate  # share of the bag's pieces dropped in training
    byte_embedding_dim: Count
    conv_filters: NonNegative  # per kernel size; 0 turns the CNN branch off
    conv_kernel_sizes: tuple[Count, ...]
    hidden_units: Count
    dropout: Rate
    tfidf_c: NonNegativeFloat  # C of the TF-IDF logistic regression averaged in; 0: off


@dataclass(frozen=True)
class TrainParams:
    epochs: Count
    batch_size: Count
    learning_rate: Positive
    early_stopping_patience: NonNegative
    max_train_rows: NonNegative  # 0 for all; a size knob for quick runs
    shuffle_buffer: NonNegative


@dataclass(frozen=True)
class EvaluateParams:
    # the operating threshold's false-positive rate on validation
    target_fpr: Annotated[float, Bounds(0, 0.5, open_low=True, open_high=True)]
    fpr_unit: str  # what target_fpr counts: each benign "url", or each benign "domain" once
    histogram_bins: Count
    curve_points: Annotated[int, Bounds(2)]  # points kept of each ROC and PR curve for plots
    source_slices: dict[str, tuple[str, ...]]  # test slices of named sources only

    def __post_init__(self) -> None:
        if self.fpr_unit not in ("url", "domain"):
            raise ParamsError("evaluate.fpr_unit must be url or domain")
        reserved = {"test", "temporal", "operating_point"} & set(self.source_slices)
        if reserved:
            raise ParamsError(f"evaluate.source_slices: {', '.join(sorted(reserved))} is taken")


@dataclass(frozen=True)
class ExportParams:
    warmup_requests: NonNegative  # URLs of the validation split in the TF Serving warmup file


@dataclass(frozen=True)
class PromoteParams:
    """The champion/challenger verdict (angler/review/verdict.py)."""

    bootstrap_samples: Annotated[int, Bounds(100)]
    # of the paired bootstrap intervals
    confidence: Annotated[float, Bounds(0.5, 1, open_low=True, open_high=True)]
    max_roc_auc_loss: Fraction  # non-inferiority margins against the champion
    max_tpr_loss: Fraction
    max_benign_fpr_increase: Fraction  # worst benign source's FPR at the operating threshold
    min_roc_auc: Fraction  # floors every candidate must clear, the first one included
    min_tpr_at_fpr_1pct: Fraction
    max_worst_benign_fpr: Fraction


@dataclass(frozen=True)
class ShadowParams:
    """The served-traffic shadow verdict (angler/review/shadow.py): promotion rules too."""

    window_urls: Count  # the newest served URLs the candidate is run on
    max_flag_rate_increase: Fraction  # of the window's URLs, candidate against what was served
    max_allow_listed_newly_flagged: NonNegative  # sites an allow list vouches for


@dataclass(frozen=True)
class MonitorParams:
    """Drift of served traffic against the reference period (angler/monitor/reference.py)."""

    # class mix the reference is reweighted to
    traffic_phishing_share: Annotated[float, Bounds(0, 1, open_low=True, open_high=True)]
    min_traffic_urls: Count
    psi_bins: Annotated[int, Bounds(2)]
    max_psi: NonNegativeFloat  # per lexical feature, the TLD mix and the score
    max_ks: Fraction
    max_unseen_tld_share: Fraction
    max_unseen_domain_share: Fraction
    score_quantiles: tuple[Annotated[float, Bounds(0, 1, open_low=True, open_high=True)], ...]
    max_score_quantile_shift: Fraction

    def __post_init__(self) -> None:
        if not self.score_quantiles:
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
    shadow: ShadowParams
    monitor: MonitorParams


@dataclass(frozen=True)
class PromotionRules:
    """What a verdict is judged by: `promote`, `shadow` (None for a base from before it had
    one) and the bootstrap's seed (`base.seed`)."""

    promote: PromoteParams
    shadow: ShadowParams | None
    seed: int


def load_promotion_rules(text: str, where: str) -> PromotionRules:
    """The promotion rules of a params.yaml's text: the trusted base revision's, read from
    git, so a pull request cannot loosen the rules its own model is judged by."""
    try:
        raw = yaml.safe_load(text)
        if not isinstance(raw, dict):
            raise ParamsError("expected a mapping")
        base = raw.get("base")
        shadow = raw.get("shadow")
        return PromotionRules(
            _build(PromoteParams, raw.get("promote"), "promote."),
            None if shadow is None else _build(ShadowParams, shadow, "shadow."),
            _convert(
                NonNegative, base.get("seed") if isinstance(base, dict) else None, "base.seed"
            ),
        )
    except yaml.YAMLError as err:
        raise ParamsError(f"{where} is not valid YAML: {err}") from None
    except ParamsError as err:
        raise ParamsError(f"{where}: {err}") from None


def load_params(path: Path) -> Params:
    """Read and type-check params.yaml."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ParamsError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ParamsError(f"{path} is not UTF-8 text (byte {err.start})") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path} is not valid YAML: {err}") from None
    return _build(Params, raw, "")


def _build(cls: type, raw: object, where: str):
    if not isinstance(raw, dict):
        raise ParamsError(f"{where.rstrip('.') or 'params.yaml'}: expected a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, include_extras=True)
    unknown = sorted(set(raw) - set(fields))
    missing = sorted(set(fields) - set(raw))
    if unknown:
        raise ParamsError(f"unknown key(s) {', '.join(where + k for k in unknown)}")
    if missing:
        raise ParamsError(f"missing key(s) {', '.join(where + k for k in missing)}")
    values = {name: _convert(hints[name], raw[name], f"{where}{name}") for name in fields}
    return cls(**values)


def _convert(hint, value, where: str):
    if typing.get_origin(hint) is Annotated:
        hint, bounds = typing.get_args(hint)
        value = _convert(hint, value, where)
        bounds.check(value, where)
        return value
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
