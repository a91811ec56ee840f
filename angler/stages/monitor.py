"""`angler monitor`: served traffic against the reference period -> drift report and plot."""

import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.options import ParamsOption, ReportOption

log = logging.getLogger(__name__)


def main(
    traffic: Annotated[Path, typer.Option(help="Folder of traffic files (Parquet or CSV).")],
    features: Annotated[Path, typer.Option(help="The featurize stage's feature table.")],
    scores: Annotated[Path, typer.Option(help="The evaluate stage's test-split scores.")],
    report: ReportOption,
    plot: Annotated[Path, typer.Option(help="Where to write the drift plot (PNG).")],
    quarantine: Annotated[Path, typer.Option(help="CSV of traffic rows that could not be used.")],
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Measure drift of recent traffic (URLs with their served scores) from the reference data.

    PSI and KS per lexical feature and for the score, the TLD mix, the shares of unseen
    TLDs and registered domains, and score-quantile shifts, each judged by the limits in
    params.yaml's `monitor:` section. A folder with no traffic files yet gives a report
    that says so; an unreadable or empty file is an error.
    """
    import pandas as pd

    from angler.data.served import traffic_files
    from angler.monitor.plot import write_drift_plot, write_no_traffic_plot
    from angler.monitor.reference import drift_report, load_reference, measure_drift
    from angler.monitor.traffic import QUARANTINE_COLUMNS, load_traffic, write_quarantine
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    files = traffic_files(traffic)
    if not files:
        log.warning("no traffic files in %s: nothing to compare yet", traffic)
        write_quarantine(pd.DataFrame(columns=QUARANTINE_COLUMNS), quarantine)
        write_no_traffic_plot(traffic, plot)
        write_report(report, "monitor", {"status": "no traffic", "drift": False})
        return
    log.info("reading %d traffic file(s) from %s", len(files), traffic)
    seen = load_traffic(files, params.featurize.suspicious_tokens, params.data.max_url_length)
    write_quarantine(seen.quarantined, quarantine)
    reference = load_reference(features, scores, params.monitor.traffic_phishing_share)
    result = measure_drift(reference, seen, params.monitor)
    write_drift_plot(
        reference, seen.features["score"].to_numpy(float), result, params.monitor, plot
    )
    drift = drift_report(reference, seen, result)
    write_report(report, "monitor", drift)
    for line in result["exceeded"]:
        log.warning("over the limit: %s", line)
    log.info("%s; plot written to %s", drift["status"], plot)
