import re

import pytest

from angler.data.feeds import BENIGN, PHISHING, CorpusError, discover_feeds

from helpers.paths import FIXTURE_CORPUS


def test_discovers_every_format_of_the_fixture_corpus():
    feeds = {
        f.path.relative_to(FIXTURE_CORPUS).as_posix(): f for f in discover_feeds(FIXTURE_CORPUS)
    }
    assert {name: (f.format, f.source, f.label) for name, f in feeds.items()} == {
        "benign/citizenlab-sample.csv": ("citizenlab", "citizenlab", BENIGN),
        "benign/popular-sites.txt": ("url_list", "popular-sites", BENIGN),
        "feeds/custom/labelled.csv": ("labelled", "labelled", None),
        "feeds/jpcert/202401.csv": ("jpcert", "jpcert", PHISHING),
        "feeds/jpcert/202403.csv": ("jpcert", "jpcert", PHISHING),
        "feeds/phishtank/phishtank-sample-2024-02.csv": ("phishtank", "phishtank", PHISHING),
    }


def test_list_class_comes_from_its_folder(tmp_path):
    (tmp_path / "phishing").mkdir()
    (tmp_path / "phishing" / "openphish.txt").write_text("http://bad.example.com/\n")
    (tmp_path / "README.md").write_text("not a feed\n")
    [feed] = discover_feeds(tmp_path)
    assert (feed.format, feed.source, feed.label) == ("url_list", "openphish", PHISHING)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "has no .csv or .txt feed files"),
        ({"feeds/x.csv": "date,URL,description\n"}, "empty feed (no data rows)"),
        ({"feeds/x.csv": ""}, "empty feed (no data rows)"),
        ({"feeds/x.csv": "when,where\n1,2\n"}, "unknown CSV header 'when,where'; expected one of"),
        ({"misc/x.txt": "http://a.example.com/\n"}, "cannot tell the class of this URL list"),
    ],
)
def test_bad_corpus_gives_one_clear_error(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(CorpusError, match=re.escape(message)):
        discover_feeds(tmp_path)


def test_missing_corpus(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        discover_feeds(tmp_path / "nowhere")
