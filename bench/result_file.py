"""The one way benchmark scripts save their results."""

import json
from pathlib import Path


def write_result(path: Path | None, result: dict) -> None:
    """Write `result` as JSON to `path`, if one was given."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
