"""The commands around the pipeline stages: one module each, `main` is the command."""

COMMANDS = (
    "demo-data",
    "replay",
    "summary",
    "report",
    "promote",
    "fetch-model",
    "champion",
    "check-pins",
    "reconcile",
    "registry-events",
    "webhook-register",
)
