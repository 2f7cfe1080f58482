"""Someone else's words in our mail: quoted, attributed, capped, with every link made inert.

A partner's decline reason goes to the customer; a customer's forward message goes to the
partner. The mail is the portal's, the words are not: a phishing link in them would reach
the other side in a mail the portal signed. So every such text goes through here, once:

- attributed and quoted: "Adatum wrote:" and the words between “ ”, in a blockquote in
  HTML and on lines starting with "> " in plain text;
- inert: no scheme a mail client links (`https://` becomes `hxxps://`, `mailto:` becomes
  `mailto[:]`), no host or address it would link either (`evil.example` becomes
  `evil[.]example`, so do `www.…`, e-mail domains and IPv4 addresses), then escaped for
  HTML; control and invisible format characters (bidi overrides, zero-width spaces, which
  can hide or disguise a link) are removed first;
- capped: at most `QUOTE_MAX_CHARS` characters on `QUOTE_MAX_LINES` lines, marked when
  shortened (the full text stays on the voucher's page, in its history).

Templates use the tags of `notifications/templatetags/mail_quotes.py`."""

from __future__ import annotations

import re
import textwrap
import unicodedata

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

QUOTE_MAX_CHARS = 1_000
QUOTE_MAX_LINES = 20
# Plain-text mail is wrapped at 76 columns; quoted lines are "> " and at most this much.
TEXT_WIDTH = 74
SHORTENED = "(shortened; the full text is on the voucher's page in the portal)"

_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": ".", "\u2028": "\n", "\u2029": "\n"})
_WEB = re.compile(r"\b(h)tt(ps?)(?=\s*:)|\bf(t)(p)(?=\s*:)", re.IGNORECASE)
_OTHER_SCHEME = re.compile(
    r"\b(?!hxxps?\b|fxp\b)([a-z][a-z0-9+.-]{0,30})(\s*):(?=\s*//)"
    r"|\b(mailto|javascript|vbscript|data|file|sms|callto|skype|ms-[a-z-]+)(\s*):(?=\S)",
    re.IGNORECASE,
)
# A host name: labels of letters, digits and hyphens, dot-separated, ending in a label of
# letters (a top-level domain, in any script) or a punycode one.
_HOST = re.compile(
    r"(?:[^\W_](?:[\w-]{0,62})?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})(?![\w-])",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")


def _web(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}xx{match.group(2)}"  # http -> hxxp, https -> hxxps
    return "fxp" if match.group(0).islower() else "FXP"


def _scheme(match: re.Match[str]) -> str:
    name = match.group(1) or match.group(3)
    return f"{name}[:]"


def _dots(match: re.Match[str]) -> str:
    return match.group(0).replace(".", "[.]")


def defang(text: str) -> str:
    """The text with nothing a mail client would turn into a link."""
    text = _WEB.sub(_web, text.translate(_DOTS))
    text = _OTHER_SCHEME.sub(_scheme, text)
    text = _HOST.sub(_dots, text)
    return _IPV4.sub(_dots, text)


def _clean(text: str) -> str:
    """Line breaks as "\\n", tabs as spaces, and no control or format characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").translate(_DOTS)
    return "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )


def quoted_lines(text: str) -> tuple[list[str], bool]:
    """The text's lines, cleaned, capped and defanged, and whether it was shortened."""
    lines: list[str] = []
    for line in _clean(text or "").split("\n"):
        line = line.strip()
        if line or (lines and lines[-1]):  # no leading or repeated blank lines
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    shortened = len(lines) > QUOTE_MAX_LINES
    kept: list[str] = []
    room = QUOTE_MAX_CHARS
    for line in lines[:QUOTE_MAX_LINES]:
        if len(line) > room:
            cut = line[:room]
            space = cut.rfind(" ")
            kept.append(cut[:space] if space > room // 2 else cut)
            shortened = True
            break
        kept.append(line)
        room -= len(line)
    while kept and not kept[-1]:
        kept.pop()
    return [defang(line) for line in kept], shortened


def quote_text(text: str, *, author: str) -> str:
    """For plain-text mail: "<author> wrote:", then the words on "> " lines."""
    lines, shortened = quoted_lines(text)
    if not lines:
        return ""
    lines[0] = "“" + lines[0]
    lines[-1] += "…”" if shortened else "”"
    quoted: list[str] = []
    for line in lines:
        wrapped = textwrap.wrap(line, width=TEXT_WIDTH, break_on_hyphens=False)
        if wrapped:
            quoted.extend(f"> {part}" for part in wrapped)
        else:
            quoted.append(">")
    out = [f"{author.strip()} wrote:", "", *quoted]
    if shortened:
        out += ["", SHORTENED]
    return "\n".join(out)


def quote_html(text: str, *, author: str) -> SafeString:
    """For HTML mail: "<author> wrote:", then the escaped words in a blockquote."""
    lines, shortened = quoted_lines(text)
    if not lines:
        return SafeString("")
    lines[0] = "“" + lines[0]
    lines[-1] += "…”" if shortened else "”"
    body = format_html_join(SafeString("<br>"), "{}", ((line,) for line in lines))
    note = (
        format_html('<br><span style="font-size:12px;color:#57606a;">{}</span>', SHORTENED)
        if shortened
        else ""
    )
    return format_html(
        '<p style="margin:0 0 6px;font-size:13px;color:#57606a;">{} wrote:</p>'
        '<blockquote style="margin:0 0 18px;padding:10px 14px;border-left:4px solid #8c959f;'
        'background:#f6f8fa;">{}{}</blockquote>',
        author.strip(),
        body,
        note,
    )
