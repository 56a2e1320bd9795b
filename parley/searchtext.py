"""Search text: the caller's query as plain terms, and the snippet that marks them.

User text is never handed to a full-text engine as syntax. A query is cut into terms
(runs of letters and digits); quotes, `*`, `-`, `^`, `:`, parentheses and the FTS5
operator words `AND`, `OR`, `NOT`, `NEAR` are dropped. Every term must occur (AND).
PostgreSQL gets the terms as `plainto_tsquery` text; SQLite gets each one as a quoted
FTS5 string. A query with no term left is refused (`query_invalid`).

The snippet escapes the content first, then wraps each matched word in `<mark>`, so
no HTML of the message ever reaches a page as markup.
"""

from __future__ import annotations

import html
import re

from parley.common.errors import InvalidInput

MAX_QUERY_LENGTH = 200
MAX_TERMS = 16
SNIPPET_LENGTH = 160
SNIPPET_LEAD = 50
WORD = re.compile(r"[^\W_]+")
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def query_invalid(detail: str) -> InvalidInput:
    return InvalidInput(detail, field="q", code="query_invalid")


def search_terms(raw: object) -> list[str]:
    """The terms of a query, lowercased and deduplicated, in their order."""
    if not isinstance(raw, str) or not raw.strip():
        raise query_invalid("Give the words to search for in 'q'.")
    if len(raw) > MAX_QUERY_LENGTH:
        raise query_invalid(f"'q' may be at most {MAX_QUERY_LENGTH} characters.")
    terms: list[str] = []
    for word in WORD.findall(raw):
        if word in OPERATORS:
            continue
        term = word.lower()
        if term not in terms:
            terms.append(term)
    if not terms:
        raise query_invalid("'q' has no word to search for (search syntax is not accepted).")
    return terms[:MAX_TERMS]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 expression matching every term in the `content` column, each quoted."""
    return "{content} : (" + " AND ".join('"' + term.replace('"', '""') + '"' for term in terms) + ")"


def snippet(content: str, terms: list[str]) -> str:
    """Up to SNIPPET_LENGTH characters around the first match, escaped, matches marked."""
    pattern = re.compile(
        r"(?<![^\W_])(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")(?![^\W_])",
        re.IGNORECASE,
    )
    first = pattern.search(content)
    start = 0
    if len(content) > SNIPPET_LENGTH and first is not None:
        start = max(0, min(first.start() - SNIPPET_LEAD, len(content) - SNIPPET_LENGTH))
        space = content.find(" ", start, first.start())
        if start > 0 and space != -1 and space - start < 20:
            start = space + 1  # begin at a word
    end = min(len(content), start + SNIPPET_LENGTH)
    window = content[start:end]
    parts: list[str] = ["…" if start > 0 else ""]
    cursor = 0
    for match in pattern.finditer(window):
        parts.append(html.escape(window[cursor : match.start()]))
        parts.append("<mark>" + html.escape(match.group(0)) + "</mark>")
        cursor = match.end()
    parts.append(html.escape(window[cursor:]))
    parts.append("…" if end < len(content) else "")
    return "".join(parts)
