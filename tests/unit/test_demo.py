"""Tests for the seeded demo corpus (angler.data.demo)."""

import csv
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from angler.data.demo import write_demo_corpus

JPCERT_HEADER = "date,URL,description"
PHISHTANK_HEADER = (
    "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target"
)
CITIZENLAB_HEADER = "url,category_code,category_description,date_added,source,notes"
PHISHTANK = "feeds/phishtank/online-valid-2024-06.csv"
BENIGN_LIST = "benign/demo-benign.txt"
CRAWL = "benign/demo-crawl.txt"
CITIZENLAB = "benign/citizenlab-test-lists.csv"
JPCERT_FILES = [f"feeds/jpcert/2024{month:02d}.csv" for month in range(1, 13)]
N_URLS = 50_000
FREE_HOSTS = ("replit.app", "weebly.com", "000webhostapp.com", "firebaseapp.com")
IPV4_HOST = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A full-size corpus (50,000 URLs), shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo_corpus(out, N_URLS, seed=7)


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _csv_rows(path: Path) -> list[list[str]]:
    """Data rows of a CSV file, header excluded."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def _phishing_urls(root: Path) -> list[str]:
    rows = [row for name in JPCERT_FILES for row in _csv_rows(root / name)]
    return [row[1] for row in rows] + [row[1] for row in _csv_rows(root / PHISHTANK)]


def _benign_urls(root: Path) -> list[str]:
    urls = (root / BENIGN_LIST).read_text(encoding="utf-8").split("\n")[:-1]
    urls += (root / CRAWL).read_text(encoding="utf-8").split("\n")[:-1]
    return urls + [row[0] for row in _csv_rows(root / CITIZENLAB)]


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].split("?", 1)[0]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = write_demo_corpus(tmp_path / "a", 2_000, seed=1)
    second = write_demo_corpus(tmp_path / "b", 2_000, seed=1)
    assert first == second
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")


def test_other_seed_gives_other_bytes(tmp_path: Path) -> None:
    write_demo_corpus(tmp_path / "a", 2_000, seed=1)
    write_demo_corpus(tmp_path / "b", 2_000, seed=2)
    first, second = _tree_bytes(tmp_path / "a"), _tree_bytes(tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


@pytest.mark.parametrize("n_urls", [100, 1_234, 10_001])
def test_counts_sum_exactly_to_n_urls(tmp_path: Path, n_urls: int) -> None:
    counts = write_demo_corpus(tmp_path, n_urls, seed=3)
    assert sum(counts.values()) == n_urls


def test_too_few_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        write_demo_corpus(tmp_path, 99, seed=0)


def test_generates_full_size_corpus(corpus: tuple[Path, dict[str, int]]) -> None:
    root, counts = corpus
    assert sorted(counts) == sorted([*JPCERT_FILES, PHISHTANK, BENIGN_LIST, CRAWL, CITIZENLAB])
    assert sum(counts.values()) == N_URLS


def test_counts_match_lines_in_files(corpus: tuple[Path, dict[str, int]]) -> None:
    root, counts = corpus
    for name, count in counts.items():
        lines = (root / name).read_bytes().count(b"\n")
        assert lines == count + (name not in (BENIGN_LIST, CRAWL)), name


def test_files_start_with_their_real_header(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus

    def first_line(name: str) -> str:
        return (root / name).read_text(encoding="utf-8").split("\n", 1)[0]

    assert all(first_line(name) == JPCERT_HEADER for name in JPCERT_FILES)
    assert first_line(PHISHTANK) == PHISHTANK_HEADER
    assert first_line(CITIZENLAB) == CITIZENLAB_HEADER
    benign_lines = (root / BENIGN_LIST).read_text(encoding="utf-8").split("\n")
    assert sum(line.startswith("http") for line in benign_lines) > 0.95 * len(benign_lines)


def test_classes_and_sources_in_expected_ratio(corpus: tuple[Path, dict[str, int]]) -> None:
    _, counts = corpus
    jpcert = sum(counts[name] for name in JPCERT_FILES)
    phishing = jpcert + counts[PHISHTANK]
    assert phishing / N_URLS == pytest.approx(0.45, abs=0.05)
    assert jpcert / phishing == pytest.approx(0.6, abs=0.05)
    assert min(counts[name] for name in JPCERT_FILES) > 0


def test_rows_have_real_field_formats(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    for name in JPCERT_FILES:
        rows = _csv_rows(root / name)
        month = name[-6:-4]
        assert all(re.fullmatch(rf"2024/{month}/\d\d \d\d:\d\d:00", row[0]) for row in rows)
        assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    descriptions = {row[2] for name in JPCERT_FILES for row in _csv_rows(root / name)}
    assert {"三井住友銀行", "ヤマト運輸", "Amazon", "Microsoft"} <= descriptions
    phishtank = _csv_rows(root / PHISHTANK)
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
    for phish_id, _, detail, submitted, verified, verified_at, online, _ in phishtank:
        assert detail == f"http://www.phishtank.com/phish_detail.php?phish_id={phish_id}"
        assert iso.fullmatch(submitted) and iso.fullmatch(verified_at)
        assert (verified, online) == ("yes", "yes")
    ids = [int(row[0]) for row in phishtank]
    assert ids == sorted(ids, reverse=True)
    assert {"PayPal", "Other", "eBay, Inc."} <= {row[7] for row in phishtank}


def test_phishing_patterns_are_present(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    hosts = [_host(url.strip()).lower() for url in _phishing_urls(root)]
    assert sum(bool(IPV4_HOST.match(host)) for host in hosts) > 100
    assert sum(not host.isascii() for host in hosts) > 50
    assert sum("xn--" in host for host in hosts) > 50
    for suffix in FREE_HOSTS:
        assert any(host.endswith("." + suffix) for host in hosts), suffix
    assert any(re.match(r"[a-z0-9.-]*(paypa1|amaz0n|app1e)", host) for host in hosts)
    assert any(host.startswith("paypal.com.") for host in hosts)
    per_host = Counter(hosts)
    assert sum(count > 1 for count in per_host.values()) > 0.2 * len(per_host)


def test_benign_lists_look_like_the_real_ones(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    deep = (root / BENIGN_LIST).read_text(encoding="utf-8").split("\n")[:-1]
    deep_hosts = Counter(_host(url.strip()) for url in deep if url.strip())
    assert 100 <= len(deep_hosts) <= 400
    assert sum(url.startswith("http://") for url in deep) > 0.8 * len(deep)
    assert any("/wiki/" in url for url in deep)
    assert any("login" in url or "account" in url for url in deep)
    citizenlab = [row[0] for row in _csv_rows(root / CITIZENLAB)]
    homepages = [url for url in citizenlab if urlsplit(url).path in ("", "/")]
    assert len(homepages) > 0.8 * len(citizenlab)
    assert len({_host(url) for url in citizenlab}) > 0.9 * len(citizenlab)


def test_the_crawl_is_many_small_sites_with_ordinary_pages(corpus) -> None:
    root, counts = corpus
    crawl = (root / CRAWL).read_text(encoding="utf-8").split("\n")[:-1]
    hosts = Counter(_host(url) for url in crawl)
    assert len(hosts) > 0.3 * len(crawl)  # 1-4 pages a site
    assert sum(pages > 4 for pages in hosts.values()) < 0.01 * len(hosts)  # rare name clashes
    paths = [urlsplit(url).path for url in crawl]
    assert sum(path in ("", "/") for path in paths) < 0.3 * len(crawl)  # not home pages only
    assert any(path.startswith("/products/") for path in paths)
    assert any(path.startswith("/about") for path in paths)


def test_dirty_rows_are_present(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    deep_lines = (root / BENIGN_LIST).read_text(encoding="utf-8").split("\n")[:-1]
    assert "" in deep_lines
    citizenlab_lines = (root / CITIZENLAB).read_text(encoding="utf-8").split("\n")
    assert CITIZENLAB_HEADER in citizenlab_lines[1:]
    urls = _phishing_urls(root) + _benign_urls(root)
    assert any("&amp;" in url for url in urls)
    assert any(url != url.strip() and url.strip() for url in urls)
    assert any("\x07" in url for url in urls)
    assert any(url.startswith("javascript:") for url in urls)
    assert any(url.startswith(("HTTPS://", "HTTP://")) for url in urls)
    assert any(re.match(r"https://[^/]+:443/", url) for url in urls)
    assert any(url in ("http://", "not a url") for url in urls)
    assert max(map(len, urls)) >= 100_000
    dirty = sum(
        not url.isprintable() or url != url.strip() or "&amp;" in url or len(url) > 2_000
        for url in urls
    )
    assert 0.001 * N_URLS < dirty < 0.02 * N_URLS


def test_duplicates_and_label_conflicts(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    phishtank = Counter(row[1] for row in _csv_rows(root / PHISHTANK))
    assert any(count > 1 for count in phishtank.values())
    conflicts = set(_phishing_urls(root)) & set(_benign_urls(root))
    assert 1 <= len({url for url in conflicts if urlsplit(url).hostname}) <= 20
