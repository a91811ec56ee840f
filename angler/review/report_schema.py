"""The shape of report.json, the one thing a pull-request run hands to the trusted poster.

The PR run is untrusted code, so the poster renders the comment itself from this data and
refuses data of any other shape: unknown keys, wrong types, strings or lists over their
bounds, numbers that are not finite. Standard library only: the poster runs it without
installing anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from angler.errors import AnglerError

DECISIONS = ("promote", "hold", "reject")
STAGE_STATES = ("cached", "reran", "not completed")
COMPARED = {
    "roc_auc": "ROC AUC",
    "tpr_at_fpr_1pct": "TPR at 1% FPR",
    "worst_benign_fpr": "worst benign source's FPR at the operating threshold",
}
NAME = 200  # characters of a name: a branch, a param, a stage, a metric
TEXT = 4000  # of a reason or a caveat
VALUE = 2000  # of any JSON value once serialised


class ReportInvalid(AnglerError):
    """report.json is not what `angler report` writes."""


@dataclass(frozen=True)
class Spec:
    kind: str  # str, number, int, bool, enum, json, list, map, record
    limit: int = 0  # characters, items or entries
    of: Spec | None = None  # items of a list, values of a map
    keys: Spec | None = None  # keys of a map
    fields: tuple[tuple[str, Spec], ...] = ()
    optional: frozenset[str] = frozenset()
    values: tuple[str, ...] = ()
    nullable: bool = False


def text(limit: int = NAME, nullable: bool = False) -> Spec:
    return Spec("str", limit, nullable=nullable)


def number(nullable: bool = False) -> Spec:
    return Spec("number", nullable=nullable)


def listing(of: Spec, limit: int) -> Spec:
    return Spec("list", limit, of=of)


def mapping(of: Spec, limit: int, keys: Spec | None = None) -> Spec:
    return Spec("map", limit, of=of, keys=keys or text())


def record(optional: tuple[str, ...] = (), **fields: Spec) -> Spec:
    return Spec("record", fields=tuple(fields.items()), optional=frozenset(optional))


BOOL, INT, JSON = Spec("bool"), Spec("int"), Spec("json", VALUE)
METRIC_CHANGE = record(
    optional=("old", "new", "diff"),
    old=Spec("json", NAME, nullable=True),
    new=Spec("json", NAME, nullable=True),
    diff=Spec("json", NAME, nullable=True),
)
CURVE = record(
    x=listing(number(), 100),
    base=Spec("list", 100, of=number(), nullable=True),
    head=Spec("list", 100, of=number(), nullable=True),
)
SITES = listing(record(site=text(260), urls=INT, allow_listed=BOOL), 10)
SERVED_TRAFFIC = record(
    optional=(
        *("files", "rows", "unusable", "period", "urls", "thresholds", "flagged", "flag_rate"),
        *("agreement", "newly_flagged", "newly_cleared", "by_kind"),
    ),
    status=text(TEXT),
    files=INT,
    rows=INT,
    unusable=INT,
    period=Spec("list", 2, of=text(), nullable=True),
    urls=INT,
    thresholds=record(served=number(), candidate=number()),
    flagged=record(served=INT, candidate=INT),
    flag_rate=record(
        served=number(),
        candidate=number(),
        change=number(),
        low=number(),
        high=number(),
        confidence=number(),
    ),
    agreement=number(),
    newly_flagged=record(urls=INT, sites=INT, allow_listed_sites=INT, top=SITES),
    newly_cleared=record(urls=INT, sites=INT, top=SITES),
    by_kind=listing(record(kind=text(), urls=INT, served=number(), candidate=number()), 10),
)
REPORT = record(
    optional=("metrics", "curves", "mlflow", "served_traffic"),
    pull_request=record(
        base=text(),
        base_name=text(),
        head_name=text(),
        number=text(12),
        remote=BOOL,
        base_sha=text(64),
    ),
    data=record(corpus=text(nullable=True), remote=BOOL),
    params=listing(record(name=text(), old=JSON, new=JSON), 500),
    stages=listing(
        record(
            stage=text(),
            state=Spec("enum", values=STAGE_STATES),
            reasons=listing(text(TEXT), 50),
        ),
        100,
    ),
    gate=record(
        optional=("success", "checked", "failed"),
        ran=BOOL,
        success=BOOL,
        checked=INT,
        failed=listing(
            record(
                suite=text(),
                expectation=text(),
                column=text(nullable=True),
                observed=JSON,
                details=JSON,
            ),
            200,
        ),
    ),
    completed=BOOL,
    metrics=mapping(mapping(METRIC_CHANGE, 20_000), 100),
    curves=record(roc=CURVE, pr=CURVE),
    mlflow=record(run_id=text(64, nullable=True)),
    served_traffic=SERVED_TRAFFIC,
    verdict=record(
        optional=("rules",),
        decision=Spec("enum", values=DECISIONS),
        reasons=listing(text(TEXT), 30),
        comparisons=mapping(
            record(
                candidate=number(), champion=number(), delta=number(), low=number(), high=number()
            ),
            len(COMPARED),
            keys=Spec("enum", values=tuple(COMPARED)),
        ),
        caveats=listing(text(TEXT), 30),
        rules=record(
            judged_by=text(),
            changed=listing(record(name=text(), base=JSON, head=JSON), 20),
        ),
    ),
)


def check_report(data: object) -> dict:
    """`data` if it has exactly the shape of REPORT, else ReportInvalid naming the place."""
    _check(data, REPORT, "report")
    return data  # type: ignore[return-value]


def _check(value: object, spec: Spec, where: str) -> None:
    if value is None and spec.nullable:
        return
    kind = spec.kind
    if kind == "str":
        _expect(isinstance(value, str), where, "a string")
        _expect(len(value) <= spec.limit, where, f"at most {spec.limit} characters")
    elif kind == "enum":
        _expect(value in spec.values, where, f"one of {', '.join(spec.values)}")
    elif kind == "bool":
        _expect(isinstance(value, bool), where, "true or false")
    elif kind == "int":
        _expect(isinstance(value, int) and not isinstance(value, bool), where, "an integer")
    elif kind == "number":
        finite = isinstance(value, int | float) and not isinstance(value, bool)
        _expect(finite and math.isfinite(value), where, "a finite number")
    elif kind == "json":
        try:
            size = len(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError):
            size = spec.limit + 1
        _expect(size <= spec.limit, where, f"a JSON value of at most {spec.limit} characters")
    elif kind == "list":
        _expect(isinstance(value, list), where, "a list")
        _expect(len(value) <= spec.limit, where, f"at most {spec.limit} items")
        for i, item in enumerate(value):
            _check(item, spec.of, f"{where}[{i}]")
    elif kind == "map":
        _expect(isinstance(value, dict), where, "an object")
        _expect(len(value) <= spec.limit, where, f"at most {spec.limit} entries")
        for key, item in value.items():
            _check(key, spec.keys, f"{where} key {key[:40]!r}")
            _check(item, spec.of, f"{where}.{key[:40]}")
    else:
        _expect(isinstance(value, dict), where, "an object")
        fields = dict(spec.fields)
        unknown = sorted(set(value) - set(fields))
        _expect(not unknown, where, f"no other keys (found {', '.join(unknown)[:80]})")
        for name, field_spec in fields.items():
            if name in value:
                _check(value[name], field_spec, f"{where}.{name}")
            else:
                _expect(name in spec.optional, where, f"a key {name!r}")


def _expect(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise ReportInvalid(f"{where}: expected {what}")
