"""Inspect an uploaded PDF in a separate, resource-limited process (R-DOC-1).

    python -m redemptions.pdfcheck < upload.pdf

reads PDF bytes from stdin and prints one JSON object:

    {"ok": true|false, "problem": "<code>"|null, "detail": "<sentence>", "pages": 2,
     "text": "<extracted text, whitespace-normalised, at most 200,000 characters>"}

Problem codes: `not_pdf`, `encrypted`, `javascript`, `launch`, `embedded_file`, `open_action`,
`too_many_pages`, `too_complex`. `redemptions.documents` runs this module with memory, CPU
and wall-clock limits, so a hostile file can cost a subprocess but never the web worker.

Standard library and pypdf only, no Django: it starts in a fraction of a second. Checks:

1. Structure: the file starts with `%PDF-` and ends with `%%EOF` (a cut-off upload is not
   repaired), pypdf parses it (`strict=False`), it is not encrypted and has 1 to 100 pages.
2. Active content, from the parsed objects: every object reachable from the trailer is
   visited (catalog `/OpenAction` and `/AA`, the `/Names` trees, pages, annotations and their
   `/A` and `/AA`, form fields, ...) without decoding any stream.
3. The same, from the raw bytes: a scan for the names `/JavaScript`, `/JS`, `/Launch`,
   `/EmbeddedFile(s)`, `/OpenAction` and `/AA` outside stream data, as a second line of
   defence for objects the parser skipped (unreachable, or in a broken cross-reference
   table). Names are whole PDF tokens (`/JS` is not `/JSomething`, `/AA` is not `/AAPL`) and
   `#xx` escapes are decoded (`/J#53` is `/JS`).
4. Size: every reachable Flate stream is inflated in 1 MB steps with the output thrown
   away; one past 32 MB, or all together past 256 MB, is `too_complex` (a decompression
   bomb). pypdf's text extraction alone would miss most bombs: it never decodes images or
   unused objects, and returns "" for a page without /Resources without decoding its
   content stream at all.
5. Text of the first 20 pages, with pypdf's zlib limit lowered to 32 MB. Running into any
   pypdf limit, or recursion (which pypdf wraps in PdfReadError), is `too_complex`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import warnings
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

MAX_PAGES = 100
TEXT_PAGES = 20
MAX_TEXT_CHARS = 200_000
MAX_OBJECTS = 100_000
ZLIB_MAX_OUTPUT = 32 * 1024 * 1024  # per stream
INFLATE_BUDGET = 256 * 1024 * 1024  # all Flate streams together
INFLATE_CHUNK = 1024 * 1024
EOF_WINDOW = 1024

# Most serious first: a file with several problems reports the first.
ACTIVE_CONTENT = ("javascript", "launch", "embedded_file", "open_action")

DETAILS = {
    "not_pdf": "The file cannot be read as a PDF.",
    "encrypted": "The PDF is encrypted.",
    "javascript": "The PDF contains JavaScript.",
    "launch": "The PDF contains an action that launches a program or opens a file.",
    "embedded_file": "The PDF contains an embedded or attached file.",
    "open_action": "The PDF contains an action that runs automatically (/OpenAction or /AA).",
    "too_many_pages": f"The PDF has more than {MAX_PAGES} pages.",
    "too_complex": "The PDF needs too much memory or work to read.",
}

INCOMPLETE = "The PDF is incomplete: it does not end with %%EOF."
NO_PAGES = "The PDF has no pages."

# PDF delimiters and white space end a name token (ISO 32000-1, 7.2.2 and 7.3.5).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")
RAW_NAMES = {
    b"JavaScript": "javascript",
    b"JS": "javascript",
    b"Launch": "launch",
    b"EmbeddedFile": "embedded_file",
    b"EmbeddedFiles": "embedded_file",
    b"OpenAction": "open_action",
    b"AA": "open_action",
}


class TooComplex(Exception):
    pass


def result(
    problem: str | None, *, detail: str | None = None, pages: int = 0, text: str = ""
) -> dict[str, Any]:
    return {
        "ok": problem is None,
        "problem": problem,
        "detail": detail or (DETAILS[problem] if problem else "The PDF passed every check."),
        "pages": pages,
        "text": text,
    }


def check(data: bytes) -> dict[str, Any]:
    """The verdict on `data`; never raises for any input."""
    try:
        with _pypdf_limits():
            return _check(data)
    except (LimitReachedError, RecursionError, MemoryError, TooComplex) as exc:
        return result("too_complex", detail=f"{DETAILS['too_complex']} ({_describe(exc)})")


def _check(data: bytes) -> dict[str, Any]:
    if not data.startswith(b"%PDF-"):
        return result("not_pdf", detail="The file does not start with %PDF-.")
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        return result("not_pdf", detail=INCOMPLETE)
    raw_found = scan_raw(data)

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        _reraise_limits(exc)
        return result("not_pdf", detail=f"pypdf cannot parse the file ({type(exc).__name__}).")
    if encrypted:
        return result("encrypted")

    try:
        pages = len(reader.pages)
    except Exception as exc:
        _reraise_limits(exc)
        return result("not_pdf", detail=f"The page tree is broken ({type(exc).__name__}).")
    if pages == 0:
        return result("not_pdf", detail=NO_PAGES)

    found = set(raw_found)
    streams: list[StreamObject] = []
    if pages <= MAX_PAGES:
        found |= scan_objects(reader, streams)
    for problem in ACTIVE_CONTENT:
        if problem in found:
            return result(problem, pages=pages)
    if pages > MAX_PAGES:
        return result("too_many_pages", detail=f"The PDF has {pages} pages.", pages=pages)
    check_inflated_sizes(streams)

    return result(None, pages=pages, text=extract_text(reader))


def extract_text(reader: PdfReader) -> str:
    parts: list[str] = []
    size = 0
    for page in reader.pages[:TEXT_PAGES]:
        try:
            text = page.extract_text() or ""
        except Exception as exc:
            _reraise_limits(exc)
            text = ""  # a page pypdf cannot read has no text for us
        parts.append(text)
        size += len(text)
        if size > MAX_TEXT_CHARS * 2:
            break
    return " ".join(" ".join(parts).split())[:MAX_TEXT_CHARS]


def scan_raw(data: bytes) -> set[str]:
    """Problem codes of the dangerous names in `data`, outside stream data."""
    found: set[str] = set()
    for chunk in _outside_streams(data):
        for match in _NAME.finditer(chunk):
            name = match.group(1)
            if b"#" in name:
                name = _HEX_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), name)
            problem = RAW_NAMES.get(name)
            if problem:
                found.add(problem)
    return found


def _outside_streams(data: bytes) -> Iterator[bytes]:
    """`data` without the bodies of `<< ... >> stream ... endstream`: compressed stream data
    is binary and would match short names such as `/JS` by chance. Linear in the size."""
    position = 0
    while True:
        start = _STREAM_START.search(data, position)
        if start is None:
            break
        end = data.find(b"endstream", start.end())
        if end < 0:
            break
        yield data[position : start.end()]
        position = end
    yield data[position:]


def scan_objects(reader: PdfReader, streams: list[StreamObject] | None = None) -> set[str]:
    """Problem codes of the active content among the objects reachable from the trailer.

    Iterative, each indirect object once, streams never decoded (but added to `streams`)."""
    found: set[str] = set()
    stack: list[Any] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                item = item.get_object()
            except Exception as exc:
                _reraise_limits(exc)
                continue  # a dangling reference is null (ISO 32000-1, 7.3.10)
        visited += 1
        if visited > MAX_OBJECTS:
            raise TooComplex(f"more than {MAX_OBJECTS} objects")
        if isinstance(item, DictionaryObject):
            if streams is not None and isinstance(item, StreamObject):
                streams.append(item)
            found |= _active_content(item)
            stack.extend(dict.values(item))
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
    return found


def check_inflated_sizes(streams: list[StreamObject]) -> None:
    """TooComplex when a Flate stream inflates past ZLIB_MAX_OUTPUT, or all of them together
    past INFLATE_BUDGET. Measured by inflating in 1 MB steps and discarding the output, so
    a decompression bomb anywhere (page content, image, unused object) costs little; pypdf
    would only meet the ones its text extraction reads."""
    budget = INFLATE_BUDGET
    for stream in streams:
        filters = dict.get(stream, "/Filter")
        if isinstance(filters, IndirectObject):
            filters = filters.get_object()
        first = filters[0] if isinstance(filters, ArrayObject) and filters else filters
        if first not in ("/FlateDecode", "/Fl"):
            continue
        raw = getattr(stream, "_data", b"")
        size = inflated_size(raw if isinstance(raw, bytes) else b"", ZLIB_MAX_OUTPUT)
        if size > ZLIB_MAX_OUTPUT:
            raise TooComplex(f"a stream inflates to more than {ZLIB_MAX_OUTPUT // 2**20} MB")
        budget -= size
        if budget < 0:
            raise TooComplex(f"the streams inflate to more than {INFLATE_BUDGET // 2**20} MB")


def inflated_size(data: bytes, limit: int) -> int:
    """How many bytes zlib `data` inflates to, counting no further than just past `limit`.
    Damaged data counts what inflated before the damage."""
    inflater = zlib.decompressobj()
    total = 0
    pending = data
    try:
        while total <= limit and not inflater.eof:
            out = inflater.decompress(pending, INFLATE_CHUNK)
            total += len(out)
            pending = inflater.unconsumed_tail
            if not out and not pending:
                break
    except zlib.error:
        pass
    return total


def _reraise_limits(exc: BaseException) -> None:
    """pypdf wraps a RecursionError in PdfReadError("Error reading PDF file."): a resource
    limit anywhere in the chain of causes makes the file too complex, not broken."""
    cause: BaseException | None = exc
    for _ in range(20):
        if cause is None:
            return
        if isinstance(cause, (LimitReachedError, RecursionError, MemoryError, TooComplex)):
            raise TooComplex(_describe(cause)) from exc
        cause = cause.__cause__ or cause.__context__


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _active_content(obj: DictionaryObject) -> set[str]:
    keys = set(dict.keys(obj))
    found: set[str] = set()
    action = _name(obj, "/S")
    if "/JS" in keys or "/JavaScript" in keys or action == "/JavaScript":
        found.add("javascript")  # an action's script, or the /Names /JavaScript tree
    if action == "/Launch":
        found.add("launch")
    if "/OpenAction" in keys or "/AA" in keys:
        found.add("open_action")
    if (
        "/EmbeddedFiles" in keys
        or "/EF" in keys
        or _name(obj, "/Type") == "/EmbeddedFile"
        or _name(obj, "/Subtype") == "/FileAttachment"
    ):
        found.add("embedded_file")
    return found


def _name(obj: DictionaryObject, key: str) -> str | None:
    value = dict.get(obj, key)
    if isinstance(value, IndirectObject):
        try:
            value = value.get_object()
        except Exception:
            return None
    return str(value) if isinstance(value, str) else None


def _pypdf_limits() -> AbstractContextManager[Any]:
    try:
        from pypdf import apply_configuration
    except ImportError:  # older pypdf: its module-level limits (75 MB) apply
        return contextlib.nullcontext()
    return apply_configuration(zlib_maximum_output_length=ZLIB_MAX_OUTPUT)


def limit_resources() -> None:
    """Caps this process's memory and CPU (set by the parent in the environment) and
    disables core dumps, before any hostile byte is read."""
    import os
    import resource

    for limit, name in (
        (resource.RLIMIT_AS, "PDFCHECK_MEMORY_BYTES"),
        (resource.RLIMIT_CPU, "PDFCHECK_CPU_SECONDS"),
    ):
        value = int(os.environ.get(name, "0") or 0)
        if value > 0:
            _soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> int:
    limit_resources()
    logging.disable(logging.CRITICAL)  # pypdf warns about every oddity of a hostile file
    warnings.simplefilter("ignore")
    data = sys.stdin.buffer.read()
    verdict = check(data)
    sys.stdout.write(json.dumps(verdict))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
