"""Which exports register a model version (angler/model/tracking.py): every one in a SQLite
store, in a tracking server only when ANGLER_REGISTER=1 says so."""

import pytest

from angler.errors import AnglerError
from angler.model.tracking import REGISTER, registers

SERVER = "https://mlflow.example.org"
SQLITE = "sqlite:///mlflow.db"


@pytest.mark.parametrize(
    ("setting", "uri", "expected"),
    [
        (None, SQLITE, True),
        (None, SERVER, False),
        ("", SERVER, False),
        ("1", SERVER, True),
        ("true", SERVER, True),
        ("0", SQLITE, False),
        ("false", SERVER, False),
    ],
)
def test_the_store_and_angler_register_decide(monkeypatch, setting, uri, expected):
    if setting is None:
        monkeypatch.delenv(REGISTER, raising=False)
    else:
        monkeypatch.setenv(REGISTER, setting)
    assert registers(uri) is expected


def test_any_other_value_is_one_line_naming_it(monkeypatch):
    monkeypatch.setenv(REGISTER, "yes please")
    with pytest.raises(
        AnglerError, match=r"^ANGLER_REGISTER='yes please': use 1 to register, 0 not to$"
    ):
        registers(SERVER)
