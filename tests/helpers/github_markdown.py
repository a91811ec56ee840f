"""Markdown rendered the way GitHub does (cmark-gfm, GitHub's own parser, from PyPI), read
back as tags, text and table rows, so tests assert on what a reviewer would see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

WORD_JOINER = "\u2060"
# What GitHub's filters turn into mentions, references and links in rendered text.
GITHUB_FILTERS = {
    "mention": re.compile(r"(?<![\w`])@[A-Za-z0-9]"),
    "issue reference": re.compile(r"#[0-9]"),
    "GH reference": re.compile(r"\bGH-[0-9]", re.IGNORECASE),
    "www autolink": re.compile(r"\bwww\.", re.IGNORECASE),
    "URL autolink": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://"),
    "email autolink": re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9_-]+\.[A-Za-z]"),
}
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Page:
    tags: list[str] = field(default_factory=list)
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)  # table rows, cells as text
    code: list[str] = field(default_factory=list)  # text inside <code>


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page, self._texts, self._cell, self._in_code = Page(), [], None, 0

    def handle_starttag(self, tag, attrs):
        self.page.tags.append(tag)
        if tag == "tr":
            self.page.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "code":
            self._in_code += 1
            self.page.code.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.page.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "code":
            self._in_code -= 1

    def handle_data(self, data):
        self._texts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_code:
            self.page.code[-1] += data


def render(markdown: str) -> Page:
    """The page GitHub would show (raw HTML kept, as GitHub keeps its allowed tags)."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    reader = _Reader()
    reader.feed(html)
    reader.page.text = "".join(reader._texts)
    return reader.page


def filtered(text: str) -> list[str]:
    """The GitHub filters that would act on this rendered text."""
    return [name for name, pattern in GITHUB_FILTERS.items() if pattern.search(text)]


def readable(markdown: str) -> str:
    """The Markdown source as a reviewer reads it: escapes and word joiners taken out, the
    tables and emphasis left, for tests that look for a phrase or a table row."""
    return shown(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown))


def shown(text: str) -> str:
    """Rendered text as a reader sees it: without the invisible word joiners."""
    return text.replace(WORD_JOINER, "")
