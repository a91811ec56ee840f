"""`angler webhook-register`: point MLflow's alias webhook at `angler registry-events`."""

import logging
from typing import Annotated

import typer

log = logging.getLogger(__name__)


def main(
    url: Annotated[str, typer.Option(help="The receiver's URL, as the MLflow server reaches it.")],
    webhook_name: Annotated[
        str, typer.Option("--name", help="The webhook's name in MLflow.")
    ] = "angler-registry-events",
    test: Annotated[
        bool, typer.Option(help="Then have MLflow send a test delivery to the receiver.")
    ] = False,
) -> None:
    """Create (or update, by name) the MLflow webhook for `champion` alias changes.

    It is signed with ANGLER_WEBHOOK_SECRET, the secret the receiver checks. Prints the
    webhook id. The MLflow server must allow the URL: MLFLOW_WEBHOOK_ALLOWED_SCHEMES for
    http://, MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS for a private address, and a fixed
    MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY so the secret survives a restart."""
    from angler.deploy.registry_events import register_webhook, send_test_delivery, webhook_secret

    webhook_id, created = register_webhook(url, webhook_secret(), webhook_name)
    log.info("%s webhook %s -> %s", "created" if created else "updated", webhook_name, url)
    if test:
        log.info(send_test_delivery(webhook_id))
    typer.echo(webhook_id)
