"""URLs whose verdict any model of Angler's should get right, and how to score them: shared
by the behaviour tests of the demo model and of the model trained on the real sample."""

import json
from pathlib import Path

import keras
import numpy as np

ORDINARY_PAGES = (  # pages of small sites no training data names
    "https://www.hollowayplumbing.co.uk/about",
    "http://marisolbakery.com/contact",
    "https://kestrel-outdoor.de/products/trail-tent-2p",
    "https://www.verdant-yoga.net/services/classes/",
    "http://smithandpartners-law.com/blog/2021/03/new-office",
)
ORDINARY_GOOGLE_SITES = (  # the feeds list Google Sites pages by the hundred, the benign
    # sources hardly any: a model that trains on them learns the platform (BENCHMARKS.md)
    "https://sites.google.com/view/riverside-chess-club/home",
    "https://sites.google.com/site/smithfamilyfarm/",
)
BRAND_IN_SUBDOMAIN = (  # a brand in the subdomain of an unrelated registered domain
    "https://paypal.secure-account.kestrel-outdoor.de/signin",
    "http://appleid.apple.com.verify.marisolbakery.com/login",
)


def model_scorer(run: Path):
    """A function scoring URL strings with the run's trained model."""
    model = keras.saving.load_model(run / "models" / "keras" / "angler.keras")

    def score(*urls: str) -> np.ndarray:
        return model.predict(np.array(urls, dtype=object), verbose=0).reshape(-1)

    return score


def operating_threshold(run: Path) -> float:
    """The operating threshold the run's evaluate stage chose on validation."""
    metrics = json.loads((run / "metrics" / "evaluate.json").read_text())
    return metrics["operating_point"]["threshold"]
