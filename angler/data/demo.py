"""Seeded demo corpus for machines that do not have the real URL feeds (``../shared/data``).

``write_demo_corpus`` writes a directory laid out like the real corpus, with the same file
names, headers and CSV dialect, so the ingest stage reads it with the same code::

    feeds/jpcert/2024MM.csv                   phishing, JPCERT/CC format, one file a month
    feeds/phishtank/online-valid-2024-06.csv  phishing, PhishTank dump format
    benign/demo-benign.txt                    benign, one URL a line (ISCX-URL-2016 style)
    benign/demo-crawl.txt                     benign, pages of many small sites (a crawl)
    benign/citizenlab-test-lists.csv          benign, Citizen Lab test-list format

About 45% of the rows are phishing. Phishing sites mix the patterns of the real feeds (brand
in a subdomain, lookalike and IDN domains, IP hosts, free hosting, compromised sites, random
throwaway domains) and each host serves 1-5 URLs. About 1% of the rows are dirty on purpose,
as in the real data: HTML entities, padding, control characters, broken and ``javascript:``
URLs, one 100,000-character URL, upper-case hosts, default ports, empty lines, repeated
header rows, plus a few duplicates within a feed and a few URLs listed in both classes.

All randomness comes from one ``random.Random(seed)``: the same ``(n_urls, seed)`` gives
byte-identical files.
"""

import calendar
import csv
import random
import string
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from urllib.parse import quote

from angler.data.feeds import CSV_FORMATS

Row = list[str]
Edit = Callable[[random.Random, Row], Row]
UrlFix = Callable[[random.Random, str], str]

MIN_URLS = 100
PHISHING_SHARE = 0.45
JPCERT_SHARE = 0.6  # of phishing rows; the rest goes to PhishTank
BENIGN_LIST_SHARE = 0.45  # of benign rows, as deep URLs of a few hundred popular sites
CRAWL_SHARE = 0.25  # of benign rows, as a few pages each of thousands of small sites;
# the rest goes to Citizen Lab
DIRTY_SHARE = 0.01
DIRTY_KINDS = 16  # URL fixes applied per_kind times, summed over the four files below
HUGE_URL_LENGTH = 100_000

JPCERT_DIR = "feeds/jpcert"
PHISHTANK_FILE = "feeds/phishtank/online-valid-2024-06.csv"
BENIGN_LIST_FILE = "benign/demo-benign.txt"
CRAWL_FILE = "benign/demo-crawl.txt"
CITIZENLAB_FILE = "benign/citizenlab-test-lists.csv"

JPCERT_HEADER = ("date", "URL", "description")  # the feed's own capitals
PHISHTANK_HEADER = CSV_FORMATS["phishtank"][0]
CITIZENLAB_HEADER = CSV_FORMATS["citizenlab"][0]
PHISH_DETAIL_URL = "http://www.phishtank.com/phish_detail.php?phish_id={}"
PHISHTANK_DUMP_TIME = datetime(2024, 6, 12, 8, 26, 22, tzinfo=timezone.utc)

# (feed label, token used in URLs, the brand's real domain, weight)
JPCERT_BRANDS = (
    ("Apple ID", "apple", "apple.com", 85),
    ("イオンカード", "aeon", "aeon.co.jp", 75),
    ("えきねっと", "eki-net", "eki-net.com", 52),
    ("メルカリ", "mercari", "jp.mercari.com", 46),
    ("Amazon", "amazon", "amazon.co.jp", 28),
    ("TEPCO", "tepco", "tepco.co.jp", 28),
    ("JCB", "jcb", "jcb.co.jp", 22),
    ("三井住友カード", "vpass", "smbc-card.com", 21),
    ("クレディセゾン", "saison", "saisoncard.co.jp", 21),
    ("三菱UFJ銀行", "mufg", "bk.mufg.jp", 20),
    ("エポスカード", "eposcard", "eposcard.co.jp", 19),
    ("softbank", "softbank", "softbank.jp", 12),
    ("ヤマト運輸", "kuronekoyamato", "kuronekoyamato.co.jp", 12),
    ("総務省", "soumu", "soumu.go.jp", 9),
    ("ETC利用照会サービス", "etc-meisai", "etc-meisai.jp", 7),
    ("Mastercard", "mastercard", "mastercard.co.jp", 6),
    ("みずほ銀行", "mizuhobank", "mizuhobank.co.jp", 6),
    ("American Express", "americanexpress", "americanexpress.com", 4),
    ("PayPay", "paypay", "paypay.ne.jp", 4),
    ("NTT docomo", "docomo", "docomo.ne.jp", 4),
    ("楽天カード", "rakuten-card", "rakuten-card.co.jp", 4),
    ("国税庁", "nta", "nta.go.jp", 3),
    ("Microsoft", "microsoft", "microsoft.com", 3),
    ("NHK", "nhk", "nhk.or.jp", 3),
    ("三井住友銀行", "smbc", "smbc.co.jp", 2),
    ("日本郵便", "japanpost", "post.japanpost.jp", 2),
)
PHISHTANK_BRANDS = (
    ("PayPal", "paypal", "paypal.com", 12),
    ("Microsoft", "microsoft", "login.microsoftonline.com", 8),
    ("Facebook", "facebook", "facebook.com", 5),
    ("Steam", "steamcommunity", "steamcommunity.com", 4),
    ("eBay, Inc.", "ebay", "ebay.com", 3),
    ("Apple", "apple", "apple.com", 3),
    ("Amazon.com", "amazon", "amazon.com", 3),
    ("Google", "google", "accounts.google.com", 2),
    ("American Express", "americanexpress", "americanexpress.com", 2),
    ("JPMorgan Chase and Co.", "chase", "chase.com", 2),
    ("Banco Santander, S.A.", "santander", "santander.com", 1),
    ("Internal Revenue Service", "irs", "irs.gov", 1),
    ("Other", "office365", "office.com", 14),
    ("Other", "outlook", "outlook.com", 10),
    ("Other", "docusign", "docusign.com", 7),
    ("Other", "dhl", "dhl.com", 7),
    ("Other", "netflix", "netflix.com", 7),
    ("Other", "sharepoint", "sharepoint.com", 6),
    ("Other", "adobe", "adobe.com", 5),
    ("Other", "dropbox", "dropbox.com", 5),
    ("Other", "caixa", "caixa.gov.br", 5),
    ("Other", "itau", "itau.com.br", 4),
    ("Other", "linkedin", "linkedin.com", 4),
    ("Other", "coinbase", "coinbase.com", 4),
)
# Weights of the phishing patterns, in the order of PHISHING_PATTERNS below.
JPCERT_PATTERN_WEIGHTS = (30, 18, 12, 15, 7, 8, 10)
PHISHTANK_PATTERN_WEIGHTS = (10, 15, 18, 15, 8, 6, 28)
SITE_SIZES = (1, 2, 3, 4, 5)
SITE_SIZE_WEIGHTS = (40, 25, 15, 12, 8)

SUSPICIOUS_WORDS = (
    "login", "verify", "account", "update", "secure", "signin", "webscr", "auth",
    "confirm", "support", "billing", "security", "unlock", "service", "mypage", "member",
)  # fmt: skip
PHISHING_TLDS = (
    "com", "com", "com", "xyz", "top", "top", "icu", "shop", "jp", "info",
    "cn", "cn", "sbs", "cyou", "buzz", "online", "net",
)  # fmt: skip
FREE_HOSTS = (
    "replit.app", "weebly.com", "000webhostapp.com", "firebaseapp.com", "web.app",
    "workers.dev", "github.io", "duckdns.org", "netlify.app", "glitch.me",
)  # fmt: skip
JP_PHISHING_PATHS = ("/tetsuzuki/login.htm", "/mypage/", "/app_login", "/user_login", "/jp/")
MAIL_HOSTS = ("gmail.com", "outlook.com", "yahoo.co.jp", "docomo.ne.jp")
IP_FIRST_OCTETS = (5, 23, 31, 37, 45, 64, 77, 80, 91, 103, 104, 138, 150, 154, 181, 185, 193)
# Latin letter -> Cyrillic lookalike (а е о р с х у і һ)
HOMOGLYPHS = {
    "a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
    "x": "\u0445", "y": "\u0443", "i": "\u0456", "h": "\u04bb",
}  # fmt: skip
LEET = {"o": "0", "l": "1", "i": "1", "e": "3", "a": "4", "s": "5"}
LABEL_CHARS = string.ascii_lowercase * 4 + string.digits
TOKEN_CHARS = string.ascii_letters + string.digits
BASE64_CHARS = string.ascii_letters + string.digits + "+/"
SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")

WORDS = (
    "american", "best", "black", "city", "day", "end", "family", "fast", "film", "first",
    "football", "game", "girl", "great", "guide", "health", "history", "home", "house",
    "how", "life", "love", "man", "market", "money", "music", "new", "night", "old",
    "people", "photo", "police", "power", "president", "review", "school", "season",
    "second", "show", "star", "state", "story", "street", "summer", "team", "time", "top",
    "travel", "video", "war", "water", "way", "week", "white", "women", "world", "year",
    "young", "china", "india", "election", "recipe", "apple", "windows", "update", "open",
)  # fmt: skip
FOREIGN_SLUGS = tuple(
    quote(word) for word in ("новости-дня", "خبر-عاجل", "tin-tức-mới", "ニュース", "ciência")
)
NAME_WORDS = (
    "news", "daily", "tech", "world", "city", "sport", "photo", "music", "travel", "food",
    "home", "market", "star", "global", "media", "life", "style", "game", "auto", "health",
    "money", "science", "smart", "green", "blue", "times", "herald", "review", "wire",
    "learn", "code", "cloud", "deal", "book", "film", "art", "radio", "post", "hub", "net",
)  # fmt: skip
SITE_TLDS = (
    "com", "com", "com", "com", "net", "org", "info", "co.uk", "com.br", "de", "pl", "ru",
    "vn", "in", "fr", "it", "es", "jp", "co.za", "kg", "md", "ir",
)  # fmt: skip
SECTIONS = ("news", "world", "sport", "business", "tech", "culture", "politics", "opinion")
REFERRERS = ("twitter", "facebook", "newsletter", "rss")
WELL_KNOWN_SITES = (
    ("en.wikipedia.org", "wiki"),
    ("bbc.co.uk", "news"),
    ("github.com", "code"),
    ("stackoverflow.com", "forum"),
    ("amazon.com", "shop"),
    ("theguardian.com", "news"),
    ("techcrunch.com", "news"),
    ("allegro.pl", "shop"),
    ("500px.com", "media"),
    ("1337x.to", "torrent"),
    ("example-university.edu", "wiki"),
    ("apple.com", "shop"),
    ("nytimes.com", "news"),
    ("superuser.com", "forum"),
    ("amazon.co.jp", "shop"),
    ("youtube.com", "media"),
    ("microsoft.com", "shop"),
    ("thenextweb.com", "news"),
    ("olx.ua", "shop"),
    ("reddit.com", "forum"),
    ("imdb.com", "media"),
    ("rakuten.co.jp", "shop"),
    ("web.de", "news"),
    ("espn.go.com", "news"),
    ("gitlab.com", "code"),
    ("allrecipes.com", "wiki"),
    ("extratorrent.cc", "torrent"),
    ("metro.co.uk", "news"),
    ("yahoo.co.jp", "news"),
    ("tunein.com", "media"),
)

CITIZENLAB_CATEGORIES = (
    ("NEWS", "News Media"),
    ("HUMR", "Human Rights Issues"),
    ("POLR", "Political Criticism"),
    ("GOVT", "Government"),
    ("REL", "Religion"),
    ("ANON", "Anonymization and circumvention tools"),
    ("CULTR", "Culture"),
    ("HOST", "Hosting and Blogging Platforms"),
    ("COMM", "E-commerce"),
    ("LGBT", "LGBT"),
    ("MMED", "Media sharing"),
    ("FILE", "File-sharing"),
    ("MISC", "Miscelaneous content"),
    ("SRCH", "Search Engines"),
    ("GMB", "Gambling"),
    ("HACK", "Hacking Tools"),
)
CITIZENLAB_CATEGORY_WEIGHTS = (48, 21, 20, 18, 8, 8, 6, 6, 4, 4, 4, 3, 3, 2, 2, 2)
CITIZENLAB_SOURCES = (
    "citizenlab", "Artigo 19 + CryptoRave + Coding Rights", "OONI", "OONI partner",
    "CIPIT", "AFTE", "ASL19", "unknown",
)  # fmt: skip
CITIZENLAB_SOURCE_WEIGHTS = (115, 19, 15, 7, 4, 4, 3, 2)
CITIZENLAB_NOTES = (
    "Local media",
    "Updated by OONI on 2017-02-14",
    'Resultado de busca de "como fazer um aborto"',
    "Blogs de direita (Mapeamento Artigo 19)",
    "Popular in Europe, Asia",
)
BLOG_HOSTS = ("blogspot.com", "wordpress.com", "livejournal.com")
PADDING = (" ", "  ", "\t")
BROKEN_URLS = ("http://", "not a url", "http:///login.php", "https//missing-colon.example.com/")
JAVASCRIPT_URLS = ("javascript:void(0)", "javascript:alert(document.cookie)")


def write_demo_corpus(out_dir: Path, n_urls: int, seed: int) -> dict[str, int]:
    """Write a demo corpus under out_dir; return {relative file path: number of data rows written}.

    Every line after a file's header counts as a data row, dirty ones included, so the
    counts sum to n_urls. Existing files of the same names are overwritten.
    """
    if n_urls < MIN_URLS:
        raise ValueError(f"n_urls must be at least {MIN_URLS}, got {n_urls}")
    rng = random.Random(seed)
    n_phishing = round(n_urls * PHISHING_SHARE)
    n_jpcert = round(n_phishing * JPCERT_SHARE)
    n_benign = n_urls - n_phishing
    n_list = round(n_benign * BENIGN_LIST_SHARE)
    n_crawl = round(n_benign * CRAWL_SHARE)
    per_kind = max(1, round(n_urls * DIRTY_SHARE / DIRTY_KINDS))
    handful = min(5, 1 + n_urls // 10_000)

    sites = _popular_sites(rng, max(10, min(300, n_list // 55)))
    conflicts = _benign_urls(rng, sites, 2 * handful)
    tables = {
        **_jpcert_files(rng, n_jpcert, per_kind, handful, conflicts[:handful]),
        PHISHTANK_FILE: _phishtank_rows(
            rng, n_phishing - n_jpcert, per_kind, handful, conflicts[handful:]
        ),
        BENIGN_LIST_FILE: _benign_list_rows(rng, sites, n_list, per_kind, conflicts),
        CRAWL_FILE: _crawl_rows(rng, n_crawl),
        CITIZENLAB_FILE: _citizenlab_rows(rng, n_benign - n_list - n_crawl, per_kind),
    }
    for name, rows in tables.items():
        if name in (BENIGN_LIST_FILE, CRAWL_FILE):
            _write_lines(out_dir / name, rows)
        else:
            _write_csv(out_dir / name, _header_of(name), rows)
    return {name: len(rows) for name, rows in tables.items()}


# --- the four sources ----------------------------------------------------------------------


def _jpcert_files(
    rng: random.Random, n: int, per_kind: int, handful: int, conflicts: list[str]
) -> dict[str, list[Row]]:
    """JPCERT/CC rows [date, URL, description], split evenly over the 12 months of 2024."""
    rows = _phishing_rows(rng, n, JPCERT_BRANDS, JPCERT_PATTERN_WEIGHTS)
    edits = _url_edits(per_kind, _padded, _upper_host, _default_port, _control_char)
    _dirty(rng, rows, edits + _url_edits(1, *map(_constant, conflicts)), handful)
    per_month, extra = divmod(n, 12)
    files, start = {}, 0
    for month in range(1, 13):
        size = per_month + (month <= extra)
        files[f"{JPCERT_DIR}/2024{month:02d}.csv"] = _jpcert_month(
            rng, month, rows[start : start + size]
        )
        start += size
    return files


def _jpcert_month(rng: random.Random, month: int, rows: list[Row]) -> list[Row]:
    """Date the rows within the month (often several in one batch) and sort them by date."""
    dated, stamp = [], ""
    for url, label in rows:
        if not stamp or rng.random() > 0.4:
            stamp = _jst_time(rng, month)
        dated.append([stamp, url, label])
    return sorted(dated, key=itemgetter(0))


def _jst_time(rng: random.Random, month: int) -> str:
    day = rng.randint(1, calendar.monthrange(2024, month)[1])
    return f"2024/{month:02d}/{day:02d} {rng.randint(9, 18):02d}:{rng.randint(0, 59):02d}:00"


def _phishtank_rows(
    rng: random.Random, n: int, per_kind: int, handful: int, conflicts: list[str]
) -> list[Row]:
    """PhishTank rows, newest first; the last tenth are old submissions still online."""
    rows = _phishing_rows(rng, n, PHISHTANK_BRANDS, PHISHTANK_PATTERN_WEIGHTS)
    edits = _url_edits(per_kind, _html_entity, _javascript, _broken, _upper_host)
    edits += _url_edits(1, _huge, *map(_constant, conflicts))
    _dirty(rng, rows, edits, handful)
    recent = n - n // 10
    submitted = int(PHISHTANK_DUMP_TIME.timestamp())
    phish_id = 8_640_000 + rng.randrange(10_000)
    table = []
    for i, (url, target) in enumerate(rows):
        verified = submitted + rng.randint(20, 3600)
        table.append(
            [str(phish_id), url, PHISH_DETAIL_URL.format(phish_id), _iso(submitted)]
            + ["yes", _iso(verified), "yes", target]
        )
        mean_gap = 40 * 86_400 / recent if i < recent else 4 * 365 * 86_400 / (n - recent)
        gap = 1 + int(rng.expovariate(1 / mean_gap))
        submitted -= gap
        phish_id -= 1 + gap // 30
    return table


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _benign_list_rows(
    rng: random.Random,
    sites: list[tuple[str, str]],
    n: int,
    per_kind: int,
    conflicts: list[str],
) -> list[Row]:
    """ISCX-style deep URLs on a few hundred popular sites, sorted as in the real list."""
    rows = [[url] for url in sorted(_benign_urls(rng, sites, n))]
    edits = _url_edits(per_kind, _empty, _padded, _broken, _control_char, _html_entity)
    _dirty(rng, rows, edits + _url_edits(1, *map(_constant, conflicts)))
    return rows


def _crawl_rows(rng: random.Random, n: int) -> list[Row]:
    """Ordinary pages of many small sites, 1-4 each, the way a crawl of random domains sees
    them: home pages, /about, /contact, product, service and blog pages."""
    rows: list[Row] = []
    while len(rows) < n:
        host = _small_site_host(rng)
        scheme = "https" if rng.random() < 0.6 else "http"
        for _ in range(min(rng.randint(1, 4), n - len(rows))):
            rows.append([f"{scheme}://{host}{_crawl_path(rng)}"])
    return rows


def _small_site_host(rng: random.Random) -> str:
    name = _pseudo_word(rng) + rng.choice(("", "", "-" + rng.choice(NAME_WORDS)))
    www = "www." if rng.random() < 0.5 else ""
    return f"{www}{name}.{rng.choice(SITE_TLDS)}"


def _crawl_path(rng: random.Random) -> str:
    slug = "-".join(rng.sample(WORDS, rng.randint(1, 3)))
    return rng.choice(
        (
            "/",
            "/about",
            "/about-us/",
            "/contact",
            "/contact.html",
            f"/products/{slug}",
            f"/services/{slug}/",
            f"/blog/{rng.randint(2015, 2024)}/{rng.randint(1, 12):02d}/{slug}",
            f"/{rng.choice(('en', 'de', 'fr', 'es'))}/{slug}.html",
            f"/index.php?page={rng.choice(WORDS)}",
            f"/gallery/{rng.randint(1, 40)}",
        )
    )


def _citizenlab_rows(rng: random.Random, n: int, per_kind: int) -> list[Row]:
    """Citizen Lab rows: mostly homepages of distinct sites, with stray header rows inside."""
    hosts: set[str] = set()
    rows = []
    while len(rows) < n:
        host = _citizenlab_host(rng)
        if host in hosts:
            continue
        hosts.add(host)
        scheme = "https" if rng.random() < 0.08 else "http"
        category = rng.choices(CITIZENLAB_CATEGORIES, CITIZENLAB_CATEGORY_WEIGHTS)[0]
        source = rng.choices(CITIZENLAB_SOURCES, CITIZENLAB_SOURCE_WEIGHTS)[0]
        notes = rng.choice(CITIZENLAB_NOTES) if rng.random() < 0.12 else ""
        url = f"{scheme}://{host}{_citizenlab_suffix(rng)}"
        rows.append([url, *category, _date_added(rng), source, notes])
    rows.sort()
    edits = [_replace_row(list(CITIZENLAB_HEADER)), _replace_row([*CITIZENLAB_HEADER, ""])]
    _dirty(rng, rows, edits + _url_edits(per_kind, _broken, _padded, _upper_host))
    return rows


def _citizenlab_host(rng: random.Random) -> str:
    name = _pseudo_word(rng)
    roll = rng.random()
    if roll < 0.12:
        return f"{name}.{rng.choice(BLOG_HOSTS)}"
    if roll < 0.35:
        name += rng.choice(("", "-")) + rng.choice(NAME_WORDS)
    www = "www." if rng.random() < 0.2 else ""
    return f"{www}{name}.{rng.choice(SITE_TLDS)}"


def _citizenlab_suffix(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return ""
    if roll < 0.88:
        return "/"
    return rng.choice(
        (f"/{rng.choice(WORDS)}/", f"/{rng.choice(SECTIONS)}/{_slug(rng)}.html", "/index.php")
    )


def _date_added(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return "2014-04-15"
    return f"{rng.randint(2014, 2018)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


# --- phishing URLs -------------------------------------------------------------------------


def _phishing_rows(
    rng: random.Random,
    n: int,
    brands: Sequence[tuple[str, str, str, int]],
    pattern_weights: Sequence[int],
) -> list[Row]:
    """n rows [url, brand label], in sites of 1-5 distinct URLs on a host of their own."""
    brand_weights = [brand[3] for brand in brands]
    hosts: set[str] = set()
    rows: list[Row] = []
    while len(rows) < n:
        label, token, domain, _ = rng.choices(brands, brand_weights)[0]
        make_host, make_path = rng.choices(PHISHING_PATTERNS, pattern_weights)[0]
        host = make_host(rng, token, domain)
        if host in hosts:
            continue
        hosts.add(host)
        scheme = "https" if rng.random() < 0.8 else "http"
        paths: dict[str, None] = {}  # insertion-ordered set
        size = rng.choices(SITE_SIZES, SITE_SIZE_WEIGHTS)[0]
        while len(paths) < size:
            paths[make_path(rng, token, domain)] = None
        rows.extend([f"{scheme}://{host}{path}", label] for path in paths)
    del rows[n:]
    return rows


def _random_host(rng: random.Random, token: str, domain: str) -> str:
    """A throwaway domain such as www.sq9vqht2.cn."""
    www = "www." if rng.random() < 0.35 else ""
    return f"{www}{_random_label(rng, 4, 16)}.{rng.choice(PHISHING_TLDS)}"


def _lookalike_host(rng: random.Random, token: str, domain: str) -> str:
    """A brand-like domain such as paypa1-verify.com or secure-amazon.top."""
    brand = _leet(rng, token) if rng.random() < 0.6 else token
    words = [brand, rng.choice(SUSPICIOUS_WORDS)]
    rng.shuffle(words)
    www = "www." if rng.random() < 0.2 else ""
    return f"{www}{'-'.join(words)}.{rng.choice(PHISHING_TLDS)}"


def _brand_subdomain_host(rng: random.Random, token: str, domain: str) -> str:
    """The brand's domain in front of an unrelated one: paypal.com.secure-login.abc.xyz."""
    base = f"{_random_label(rng, 5, 14)}.{rng.choice(PHISHING_TLDS)}"
    roll = rng.random()
    if roll < 0.35:
        return f"{domain}.{base}"
    if roll < 0.6:
        return f"www.{domain}.{base}"
    return f"{domain}.{rng.choice(SUSPICIOUS_WORDS)}-{rng.choice(SUSPICIOUS_WORDS)}.{base}"


def _free_hosting_host(rng: random.Random, token: str, domain: str) -> str:
    """A subdomain of a free hosting service: paypal-login-42.000webhostapp.com."""
    roll = rng.random()
    if roll < 0.4:
        label = f"{token}-{rng.choice(SUSPICIOUS_WORDS)}-{rng.randint(1, 999)}"
    elif roll < 0.7:
        label = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{_random_label(rng, 4, 4)}"
    else:
        label = _random_label(rng, 6, 14)
    return f"{label}.{rng.choice(FREE_HOSTS)}"


def _ip_host(rng: random.Random, token: str, domain: str) -> str:
    """A public IPv4 address, sometimes with a port: 181.214.58.104."""
    octets = (rng.choice(IP_FIRST_OCTETS), rng.randrange(256), rng.randrange(256))
    port = ":8080" if rng.random() < 0.1 else ""
    return ".".join(map(str, octets)) + f".{rng.randint(1, 254)}{port}"


def _idn_host(rng: random.Random, token: str, domain: str) -> str:
    """The brand's domain with a Cyrillic letter in its name, as Unicode or xn-- punycode."""
    start = domain.find(token)
    spots = [i for i, char in enumerate(token, start) if char in HOMOGLYPHS and start >= 0]
    if not spots:
        return _lookalike_host(rng, token, domain)
    i = rng.choice(spots)
    host = domain[:i] + HOMOGLYPHS[domain[i]] + domain[i + 1 :]
    return host.encode("idna").decode("ascii") if rng.random() < 0.5 else host


def _compromised_host(rng: random.Random, token: str, domain: str) -> str:
    """An ordinary-looking small site that was broken into."""
    www = "www." if rng.random() < 0.4 else ""
    name = _pseudo_word(rng) + rng.choice(("", "-" + rng.choice(NAME_WORDS)))
    return f"{www}{name}.{rng.choice(SITE_TLDS)}"


def _phishing_path(rng: random.Random, token: str, domain: str) -> str:
    word = rng.choice(SUSPICIOUS_WORDS)
    roll = rng.randrange(8)
    if roll == 0:
        return f"/{word}.php"
    if roll == 1:
        return f"/{word}/{rng.choice(SUSPICIOUS_WORDS)}/"
    if roll == 2:
        return f"/{token}/{word}/index.php?id={_hex(rng, 32)}&session={_hex(rng, 64)}"
    if roll == 3:
        return f"/webscr?cmd=_{word}-run&dispatch={_hex(rng, 48)}"
    if roll == 4:
        return f"/{_token(rng, 20, 40)}/"
    if roll == 5:
        return rng.choice(JP_PHISHING_PATHS)
    if roll == 6:
        return f"/{word}?email={_random_label(rng, 4, 10)}%40{rng.choice(MAIL_HOSTS)}"
    return "/"


def _short_path(rng: random.Random, token: str, domain: str) -> str:
    """Mostly a bare homepage, as throwaway domains in the JPCERT feed."""
    roll = rng.random()
    if roll < 0.35:
        return "/"
    if roll < 0.5:
        return ""
    if roll < 0.75:
        return f"/?{_random_label(rng, 6, 10)}"
    return _phishing_path(rng, token, domain)


def _compromised_path(rng: random.Random, token: str, domain: str) -> str:
    """A kit dropped deep in a CMS folder: /wp-content/plugins/x/paypal.com/login/."""
    folder = rng.choice(("wp-content/plugins", "wp-admin/includes", "wp-content/uploads", "js"))
    page = rng.choice(("", "index.php", "login.php", f"?cmd=login_submit&id={_hex(rng, 32)}"))
    return f"/{folder}/{rng.choice(WORDS)}/{domain}/{rng.choice(SUSPICIOUS_WORDS)}/{page}"


PHISHING_PATTERNS = (
    (_random_host, _short_path),
    (_lookalike_host, _phishing_path),
    (_brand_subdomain_host, _phishing_path),
    (_free_hosting_host, _phishing_path),
    (_ip_host, _phishing_path),
    (_idn_host, _phishing_path),
    (_compromised_host, _compromised_path),
)


# --- benign URLs ---------------------------------------------------------------------------


def _popular_sites(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """count sites as (scheme://host, path style): well-known ones first, then made-up ones."""
    chosen = list(WELL_KNOWN_SITES[:count])
    hosts = {host for host, _ in chosen}
    while len(chosen) < count:
        words = rng.sample(NAME_WORDS, 2)
        host = f"{rng.choice(('', '-')).join(words)}.{rng.choice(SITE_TLDS)}"
        if host not in hosts:
            hosts.add(host)
            chosen.append((host, rng.choice(tuple(PATH_STYLES))))
    return [(f"{'https' if rng.random() < 0.08 else 'http'}://{h}", s) for h, s in chosen]


def _benign_urls(rng: random.Random, sites: list[tuple[str, str]], n: int) -> list[str]:
    """n URLs on the sites, with a Zipf-like popularity."""
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(sites))]
    return [prefix + _benign_path(rng, style) for prefix, style in rng.choices(sites, weights, k=n)]


def _benign_path(rng: random.Random, style: str) -> str:
    roll = rng.random()
    if roll < 0.04:
        return _account_path(rng)
    path = PATH_STYLES[style](rng)
    if roll > 0.88:
        path += f"{'&' if '?' in path else '?'}utm_source={rng.choice(REFERRERS)}&utm_medium=social"
    return path


def _account_path(rng: random.Random) -> str:
    """Login and account pages of legitimate sites, so the vocabulary overlaps phishing."""
    word = rng.choice(WORDS)
    return rng.choice(
        (
            f"/login?next=%2F{word}",
            "/account/settings",
            f"/signin?redir=%2F{word}%2F{rng.randint(1, 9999)}",
            f"/user/{_pseudo_word(rng)}/verify-email",
        )
    )


def _news_path(rng: random.Random) -> str:
    year, month, day = rng.randint(2012, 2016), rng.randint(1, 12), rng.randint(1, 28)
    roll = rng.randrange(3)
    if roll == 0:
        return f"/{rng.choice(SECTIONS)}/{year}/{month:02d}/{day:02d}/{_slug(rng)}/"
    if roll == 1:
        return f"/news/{year}/{month:02d}/{_slug(rng)}"
    return f"/{rng.choice(SECTIONS)}/{_slug(rng)}-{rng.randint(100_000, 9_999_999)}"


def _wiki_path(rng: random.Random) -> str:
    return "/wiki/" + "_".join(word.capitalize() for word in rng.sample(WORDS, rng.randint(1, 4)))


def _shop_path(rng: random.Random) -> str:
    roll = rng.randrange(3)
    if roll == 0:
        return f"/product/{rng.randint(1000, 999_999)}"
    if roll == 1:
        return f"/item/{rng.randint(1000, 999_999)}?ref={rng.choice(WORDS)}"
    return f"/{_slug(rng)}/dp/B0{_token(rng, 8, 8).upper()}"


def _forum_path(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"/questions/{rng.randint(1_000_000, 39_999_999)}/{_slug(rng)}"
    return f"/threads/{_slug(rng)}.{rng.randint(1000, 999_999)}/"


def _code_path(rng: random.Random) -> str:
    repo = f"/{_pseudo_word(rng)}/{rng.choice(WORDS)}-{rng.choice(NAME_WORDS)}"
    roll = rng.randrange(3)
    if roll == 0:
        return repo
    if roll == 1:
        return f"{repo}/issues/{rng.randint(1, 5000)}"
    return f"{repo}/blob/master/{rng.choice(WORDS)}.py"


def _media_path(rng: random.Random) -> str:
    roll = rng.randrange(3)
    if roll == 0:
        set_id = rng.randint(10_000, 999_999)
        return f"/photo/{rng.randint(10**6, 10**8)}/{_slug(rng)}?from=set&set_id={set_id}"
    if roll == 1:
        return f"/watch?v={_token(rng, 11, 11)}"
    return f"/video/{rng.randint(1000, 999_999)}/{_slug(rng)}"


def _torrent_path(rng: random.Random) -> str:
    title = "-".join(word.capitalize() for word in rng.sample(WORDS, rng.randint(2, 5)))
    quality = rng.choice(("720p-WEB-DL", "1080p-BluRay", "HDTV-x264", "DVDSCR"))
    return f"/torrent/{rng.randint(10**6, 2 * 10**6)}/{title}-{rng.randint(2010, 2016)}-{quality}/"


PATH_STYLES: dict[str, Callable[[random.Random], str]] = {
    "news": _news_path,
    "wiki": _wiki_path,
    "shop": _shop_path,
    "forum": _forum_path,
    "code": _code_path,
    "media": _media_path,
    "torrent": _torrent_path,
}


# --- dirty rows ----------------------------------------------------------------------------


def _dirty(rng: random.Random, rows: list[Row], edits: list[Edit], n_duplicates: int = 0) -> None:
    """Apply each edit to its own random row, then copy n_duplicates untouched rows over others."""
    slots = rng.sample(range(len(rows)), len(edits) + 2 * n_duplicates)
    for slot, edit in zip(slots[: len(edits)], edits, strict=True):
        rows[slot] = edit(rng, rows[slot])
    copies = slots[len(edits) :]
    for source, target in zip(copies[::2], copies[1::2], strict=True):
        rows[target] = list(rows[source])


def _url_edits(per_kind: int, *fixes: UrlFix) -> list[Edit]:
    """Row edits applying each fix to the URL (first column) of per_kind rows."""
    return [_on_url(fix) for fix in fixes for _ in range(per_kind)]


def _on_url(fix: UrlFix) -> Edit:
    return lambda rng, row: [fix(rng, row[0]), *row[1:]]


def _replace_row(new_row: Row) -> Edit:
    return lambda rng, row: list(new_row)


def _constant(url: str) -> UrlFix:
    return lambda rng, old: url


def _padded(rng: random.Random, url: str) -> str:
    return f"{rng.choice(PADDING)}{url}{rng.choice(PADDING)}"


def _upper_host(rng: random.Random, url: str) -> str:
    """HTTPS://PayPal-Verify.COM/... : upper-case scheme, mixed-case host."""
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    labels = (label.upper() if rng.random() < 0.5 else label.title() for label in host.split("."))
    return f"{scheme.upper()}://{'.'.join(labels)}{slash}{path}"


def _default_port(rng: random.Random, url: str) -> str:
    _, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"https://{host.split(':')[0]}:443/{path}"


def _control_char(rng: random.Random, url: str) -> str:
    cut = rng.randint(len(url) // 2, len(url))
    return f"{url[:cut]}\x07{url[cut:]}"


def _html_entity(rng: random.Random, url: str) -> str:
    """&amp; instead of & in the query, as in PhishTank dumps."""
    if "&" in url:
        return url.replace("&", "&amp;")
    return f"{url}{'&amp;' if '?' in url else '?'}id={_hex(rng, 16)}&amp;lang=en"


def _broken(rng: random.Random, url: str) -> str:
    return rng.choice(BROKEN_URLS)


def _javascript(rng: random.Random, url: str) -> str:
    return rng.choice(JAVASCRIPT_URLS)


def _empty(rng: random.Random, url: str) -> str:
    return ""


def _huge(rng: random.Random, url: str) -> str:
    """The URL with a base64 blob appended, HUGE_URL_LENGTH characters in all."""
    head = f"{url}{'&' if '?' in url else '?'}data="
    return head + "".join(rng.choices(BASE64_CHARS, k=HUGE_URL_LENGTH - len(head)))


# --- small helpers -------------------------------------------------------------------------


def _random_label(rng: random.Random, shortest: int, longest: int) -> str:
    return "".join(rng.choices(LABEL_CHARS, k=rng.randint(shortest, longest)))


def _token(rng: random.Random, shortest: int, longest: int) -> str:
    return "".join(rng.choices(TOKEN_CHARS, k=rng.randint(shortest, longest)))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))


def _slug(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(FOREIGN_SLUGS)
    return "-".join(rng.choices(WORDS, k=rng.randint(3, 9)))


def _leet(rng: random.Random, word: str) -> str:
    """word with one letter swapped for a lookalike digit: paypal -> paypa1."""
    spots = [i for i, char in enumerate(word) if char in LEET]
    if not spots:
        return word
    i = rng.choice(spots)
    return word[:i] + LEET[word[i]] + word[i + 1 :]


def _header_of(name: str) -> Sequence[str]:
    if name.startswith(JPCERT_DIR):
        return JPCERT_HEADER
    return PHISHTANK_HEADER if name == PHISHTANK_FILE else CITIZENLAB_HEADER


def _write_csv(path: Path, header: Sequence[str], rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_lines(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(f"{url}\n" for (url,) in rows)
