"""Data-quality gate: Great Expectations suites over the labelled and feature tables.

Two suites gate the pipeline: ``labelled`` (schema, labels, phishing share, URL lengths,
duplicates, row count) and ``features`` (schema, dtypes, splits, feature bounds, no registered
domain in two splits, no single-feature shortcut that separates the classes). Checks that GX has
no built-in expectation for are computed with pandas into small derived tables, which GX then
validates like any other batch, so every verdict and the Data Docs come from GX.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from angler.data.schema import (
    COUNT_FEATURES,
    FEATURE_TABLE_COLUMNS,
    FLAG_FEATURES,
    LABELLED_COLUMNS,
    NUMERIC_FEATURES,
    SPLITS,
    WWW_HOST_PATTERN,
)
from angler.params import ValidateParams

NUMERIC_DTYPES = ["int8", "int16", "int32", "int64", "float32", "float64", "Int32", "Int64"]
MAX_ENTROPY_BITS = 8  # Shannon entropy of a byte string is at most log2(256)

# Surface forms of the model input that say how a feed wrote the URL, not what it points to:
# a scheme, www. or a trailing slash left in; upper-case letters (outside %-escapes), which
# a source that lower-cased its URLs (DeepURLBench) lacks; a bare host with no path or
# query, which some lists hold far more of than others (TweetFeed, Citizen Lab).
SHORTCUT_PATTERNS = {
    "starts_with_scheme": r"^[a-z][a-z0-9+.-]*://",
    "starts_with_www": WWW_HOST_PATTERN,
    "trailing_slash": r"/$",
    "upper_case": r"(?<!%)(?<!%[0-9A-Fa-f])[A-Z]",
    "bare_host": r"^[^/?#]*$",
}

_BUILD_TIME = re.compile(r"\?d=[0-9]{8}T[0-9]{6}\.[0-9]+Z")
_LOAD_TIME = re.compile(r"(ge_load_time</span>.*?>)[0-9]{8}T[0-9]{6}\.[0-9]+Z(<)", re.DOTALL)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Kwargs GX adds to every expectation that say nothing about what was expected.
_NON_EXPECTED_KWARGS = {"column", "batch_id", "result_format", "catch_exceptions", "meta"}


def folded_auc(feature: Any, label: Any) -> float:
    """ROC AUC of one score against 0/1 labels (Mann-Whitney U), folded to max(auc, 1 - auc).

    Folding makes a feature that separates the classes in either direction score high;
    0.5 when the score is constant or one class is missing.
    """
    is_positive = np.asarray(label) == 1
    n_pos = int(is_positive.sum())
    n_neg = len(is_positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = pd.Series(np.asarray(feature, dtype=float)).rank().to_numpy()  # ties: mean rank
    u_statistic = ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2
    auc = u_statistic / (n_pos * n_neg)
    return float(max(auc, 1 - auc))


def shortcut_aucs(features: pd.DataFrame) -> dict[str, float]:
    """Folded AUC of each surface-form shortcut of ``url_key`` in the train split."""
    train = features[features["split"] == "train"]
    return {
        name: folded_auc(train["url_key"].str.contains(pattern, na=False), train["label"])
        for name, pattern in SHORTCUT_PATTERNS.items()
    }


def raw_shortcut_aucs(labelled: pd.DataFrame) -> dict[str, float]:
    """Folded AUC of feed artefacts (https scheme, www. host) that url_key normalisation drops."""
    return {
        "https_scheme": folded_auc(
            labelled["url"].str.startswith("https://", na=False), labelled["label"]
        ),
        "www_host": folded_auc(
            labelled["host"].str.contains(WWW_HOST_PATTERN, na=False), labelled["label"]
        ),
    }


def labelled_expectations(params: ValidateParams, max_url_length: int) -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(LABELLED_COLUMNS), exact_match=False),
        gxe.ExpectTableRowCountToBeBetween(min_value=params.min_rows),
        gxe.ExpectColumnValuesToNotBeNull(column="url"),
        gxe.ExpectColumnValuesToNotBeNull(column="url_key"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]),
        gxe.ExpectColumnMeanToBeBetween(
            column="label",
            min_value=params.min_phishing_share,
            max_value=params.max_phishing_share,
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="url", min_value=params.min_url_length, max_value=max_url_length
        ),
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(
            column="url_key", min_value=1 - params.max_duplicate_rate
        ),
    ]


def feature_expectations() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(FEATURE_TABLE_COLUMNS), exact_match=False),
        *(
            gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=NUMERIC_DTYPES)
            for column in NUMERIC_FEATURES
        ),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS)),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]),
        *(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0)
            for column in COUNT_FEATURES
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="entropy", min_value=0, max_value=MAX_ENTROPY_BITS
        ),
        *(
            gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[0, 1])
            for column in FLAG_FEATURES
        ),
    ]


def data_time(labelled: pd.DataFrame) -> datetime:
    """The newest sighting in the labelled URLs (the epoch when none is dated)."""
    newest = pd.to_datetime(labelled["first_seen"], utc=True).max()
    return datetime(1970, 1, 1, tzinfo=timezone.utc) if pd.isna(newest) else newest.to_pydatetime()


def _make_docs_reproducible(docs_dir: Path) -> None:
    """GX stamps each page's logo URL with the build time (`logo-long.png?d=<now>`) and each
    batch with its load time, and gives collapsible blocks random ids: the times go, the
    ids are numbered in page order."""
    for page in docs_dir.rglob("*.html"):
        text = _BUILD_TIME.sub("", page.read_text(encoding="utf-8"))
        text = _LOAD_TIME.sub(r"\1(not recorded)\2", text)
        page.write_text(_number_ids(text), encoding="utf-8")


def _number_ids(text: str) -> str:
    ids: dict[str, str] = {}
    return _UUID.sub(lambda m: ids.setdefault(m.group(0), f"block-{len(ids)}"), text)


def _ephemeral_context(docs_dir: Path) -> Any:
    """An in-memory GX context (no gx/ folder anywhere) whose only Data Docs site is docs_dir."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            "local_site": {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _exception_message(exception_info: dict) -> str | None:
    """GX reports an expectation's own error flat, a failed metric (missing column) per metric."""
    candidates = [exception_info, *(v for v in exception_info.values() if isinstance(v, dict))]
    return next((c["exception_message"] for c in candidates if c.get("raised_exception")), None)


def _summarise(result: dict, suite: str, table: str) -> dict:
    """One GX expectation result as a small JSON dict; ``observed`` says what was wrong."""
    config = result["expectation_config"]
    kwargs = config["kwargs"]
    details = result.get("result") or {}
    error = _exception_message(result.get("exception_info") or {})
    if error:
        observed: Any = f"error: {error}"
    elif "mismatched" in details.get("details", {}):  # schema: name the missing columns
        observed = details["details"]["mismatched"]
    elif "observed_value" in details:
        observed = details["observed_value"]
    else:
        observed = {
            key: details[key]
            for key in ("unexpected_count", "unexpected_percent", "partial_unexpected_list")
            if key in details
        }
        if details.get("partial_unexpected_index_list"):
            observed["unexpected_rows"] = details["partial_unexpected_index_list"]
    return {
        "suite": suite,
        "table": table,
        "expectation": config["type"],
        "column": kwargs.get("column"),
        "success": bool(result["success"]),
        "observed": observed,
        "details": {k: v for k, v in kwargs.items() if k not in _NON_EXPECTED_KWARGS},
    }


def _numpy_to_builtin(value: Any) -> Any:
    # to_json_dict() leaves numpy scalars in the unexpected-row index lists
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _failure_message(entry: dict) -> str:
    target = f"{entry['table']}.{entry['column']}" if entry["column"] else entry["table"]
    expected = ", ".join(f"{key}={value}" for key, value in entry["details"].items())
    return (
        f"{entry['suite']}: {entry['expectation']} on {target}: "
        f"observed {entry['observed']}, expected {expected}"
    )


def run_data_checks(
    labelled: pd.DataFrame,
    features: pd.DataFrame,
    params: ValidateParams,
    max_url_length: int,
    docs_dir: Path,
) -> dict:
    """Validate both tables with GX, build Data Docs into docs_dir and return a JSON report.

    Failed expectations give ``success: False`` and a line each in ``failed``, never an error.
    """
    shortcuts = shortcut_aucs(features)
    domain_splits = (
        features.groupby("registered_domain")["split"].nunique().rename("n_splits").reset_index()
    )
    shortcut_table = pd.DataFrame({"shortcut": list(shortcuts), "auc": list(shortcuts.values())})
    # (suite in the report, GX batch name, data, expectations, columns that name a failing row)
    batches = [
        ("labelled", "labelled", labelled, labelled_expectations(params, max_url_length), []),
        ("features", "features", features, feature_expectations(), []),
        (
            "features",
            "domain_splits",
            domain_splits,
            [gxe.ExpectColumnValuesToBeBetween(column="n_splits", min_value=1, max_value=1)],
            ["registered_domain"],
        ),
        (
            "features",
            "shortcut_aucs",
            shortcut_table,
            [
                gxe.ExpectColumnValuesToBeBetween(
                    column="auc", min_value=0, max_value=params.max_shortcut_auc
                )
            ],
            ["shortcut"],
        ),
    ]

    context = _ephemeral_context(docs_dir)
    source = context.data_sources.add_pandas("angler")
    # The run is dated by its data, not the clock, so the same data gives the same docs.
    run_id = RunIdentifier(run_name="angler-data-checks", run_time=data_time(labelled))
    report_suites: dict[str, dict] = {}
    for suite_name, table, data, expectations, row_id_columns in batches:
        batch_definition = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(
            table
        )
        suite = context.suites.add(gx.ExpectationSuite(name=table, expectations=expectations))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch_definition, suite=suite)
        )
        result = validation.run(
            batch_parameters={"dataframe": data},
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": row_id_columns,
            },
            run_id=run_id,
        ).to_json_dict()
        result = json.loads(json.dumps(result, default=_numpy_to_builtin))
        report_suite = report_suites.setdefault(suite_name, {"success": True, "results": []})
        report_suite["success"] &= bool(result["success"])
        report_suite["results"] += [_summarise(r, suite_name, table) for r in result["results"]]
    context.build_data_docs()
    _make_docs_reproducible(docs_dir)

    failed = [
        _failure_message(entry)
        for suite in report_suites.values()
        for entry in suite["results"]
        if not entry["success"]
    ]
    return {
        "success": not failed,
        "suites": report_suites,
        "shortcuts": shortcuts,
        "raw_shortcuts": raw_shortcut_aucs(labelled),
        "failed": failed,
        "data_docs": str(docs_dir / "index.html"),
    }
