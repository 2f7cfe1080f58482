"""Inspect an uploaded PDF in a separate, resource-limited process (R-DOC-1).

    python -m redemptions.pdfcheck < upload.pdf

reads PDF bytes from stdin and prints one JSON object:

    {"ok": true|false, "problem": "<code>"|null, "detail": "<sentence>", "pages": 2,
     "subject": "<what was found, for the partner's message>"|null,
     "text": "<extracted text, whitespace-normalised, at most 200,000 characters>",
     "signatures": [{"field", "name", "intact", "covers_whole", "coverage", "modification",
                     "trusted", "signed_at", "detail"}, ...],
     "scan_pages": [{"page", "payloads", "boxes": [{"field", "ink", "empty", "png"}]}]|null}

`signatures` and `scan_pages` (R-DOC-1, round 2) come from `redemptions.pdftrust` once the
file passed every check below: the signatures of a PDF with a signed signature field
(pyHanko; trust roots from the PEM file named by PDFCHECK_TRUST_ROOTS), or, for a PDF with
no text (a scan), each page rendered and its QR codes read (pypdfium2, zxing-cpp; the
signature boxes to crop from PDFCHECK_SCAN_REGIONS, JSON). Each library is imported only
when the file needs it.

Problem codes: `not_pdf`, `encrypted`, `javascript`, `xfa`, `launch`, `action`, `multimedia`,
`embedded_file`, `open_action`, `too_many_pages`, `too_complex`, `image_too_large`.
`redemptions.documents` runs this module with memory, CPU and wall-clock limits, so a hostile
file can cost a subprocess but never the web worker.

It allows only what a signed SOW/POE needs (R-DOC-1): text, fonts, images, web links and
links within the document, and the form fields and signatures of a signed PDF. Refused:

- `javascript`: any /JS or /JavaScript key or name tree, any /JavaScript action, a /URI to
  a `javascript:` address;
- `xfa`: an /AcroForm with an /XFA entry (stream or array) or a catalog /NeedsRendering:
  an XFA form lays itself out and runs its own scripts;
- `launch`: a /Launch action;
- `action`: every other action but /URI (to http, https or mailto only) and /GoTo (which
  stays in the document): /GoToR (another file, a UNC path \\\\host\\share leaks the user's
  NTLM hash), /GoToE, /GoToDp, /Thread, /SubmitForm, /ImportData, /ResetForm, /Hide,
  /Named, /Sound, /Movie, /Rendition, /RichMediaExecute, /SetOCGState, /Trans,
  /GoTo3DView, and any type no standard defines. **Decision:** /ResetForm and /Named are
  harmless in principle but refused too: no template needs them, and Acrobat runs any menu
  command by name (Print, SaveAs, mail) from a /Named action. A page /Trans (presentation
  transition) is refused with the /Trans action. Actions are looked for wherever they run:
  link and widget annotations (/A, /PA), outline items (/A), /OpenAction, every /AA trigger,
  and each action's /Next chain (a dictionary or an array);
- `multimedia`: /RichMedia, /Screen, /Movie, /Sound and /3D annotations, renditions and
  media clips (/Names /Renditions), 3D streams, /AlternatePresentations;
- `embedded_file`: embedded files (/EmbeddedFiles, /EF, /Type /EmbeddedFile), file
  attachment annotations, portfolios (/Collection);
- `open_action`: anything that runs by itself (/OpenAction, /AA), even an allowed action;
- `too_complex`: a stream that decodes past MAX_DECODED_STREAM, or all of them past
  DECODE_BUDGET, a chain of more than MAX_FILTERS filters, a filter this module cannot
  measure, a predictor or an image filter in the middle of a chain;
- `image_too_large`: an image past MAX_IMAGE_SIDE pixels a side or MAX_IMAGE_PIXELS in all.

Standard library and pypdf only, no Django: it starts in a fraction of a second. Checks:

1. Structure: the file starts with `%PDF-` and ends with `%%EOF` (a cut-off upload is not
   repaired), pypdf parses it (`strict=False`), it is not encrypted and has 1 to 100 pages.
2. Active content, from the parsed objects: every object reachable from the trailer, and
   every object stream, is visited (catalog `/OpenAction` and `/AA`, the `/Names` trees,
   pages, annotations and their `/A` and `/AA`, outlines, form fields, ...) without decoding
   any stream but the object streams. Each visit knows whether the object is in the place of
   an action, so an action of an unknown type is refused too.
3. The same, from the raw bytes: a scan for the names of refused content (`/JavaScript`,
   `/JS`, `/XFA`, `/Launch`, `/GoToR`, `/SubmitForm`, `/RichMedia`, `/EmbeddedFile(s)`,
   `/OpenAction`, `/AA`, ... see RAW_NAMES) outside stream data, and in the decoded data
   of every object stream, as a second line of defence for objects the parser skipped
   (unreachable, or in a broken cross-reference table). Names are whole PDF tokens (`/JS`
   is not `/JSomething`, `/AA` is not `/AAPL`) and `#xx` escapes are decoded (`/J#53` is
   `/JS`).
4. Size: every reachable stream is decoded through every filter of its chain (Flate, LZW,
   ASCIIHex, ASCII85, RunLength), 1 MB at a time, with the output thrown away as it comes;
   one stage past MAX_DECODED_STREAM, or all stages of all streams together past
   DECODE_BUDGET, is `too_complex` (a decompression bomb), found as soon as the cap is
   passed. Image filters (DCT, JPX, CCITT, JBIG2) end a chain: their output is bounded by
   the image's size. pypdf's text extraction alone would miss most bombs: it never decodes
   images or unused objects, and returns "" for a page without /Resources without decoding
   its content stream at all.
5. Images: /Width x /Height of every image XObject, of every inline image (`BI /W .. /H ..
   ID`) in decoded content, and the size a JPEG (SOF) or JPEG 2000 (SIZ, ihdr) stream
   declares in its own header, which is what a viewer allocates, whatever the dictionary
   says: past MAX_IMAGE_SIDE or MAX_IMAGE_PIXELS is `image_too_large`.
6. Text of the first 20 pages, with pypdf's zlib limit lowered to 32 MB. Running into any
   pypdf limit, or recursion (which pypdf wraps in PdfReadError), is `too_complex`.

All of it is linear in the upload and the decoded data, each bounded.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import struct
import sys
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from redemptions import pdftrust

MAX_PAGES = 100
TEXT_PAGES = 20
MAX_TEXT_CHARS = 200_000
MAX_OBJECTS = 100_000
MIB = 1024 * 1024

ZLIB_MAX_OUTPUT = 32 * MIB
"""pypdf's own zlib limit while it parses and extracts text (one Flate call)."""

MAX_DECODED_STREAM = 32 * MIB
"""What one stream may decode to, at every stage of its filter chain (a 2-page template
decodes each stream to well under 1 MB; an A4 page scanned at 300 dpi in colour and Flate
compressed, the largest stream a signed scan needs, to about 26 MB)."""

DECODE_BUDGET = 256 * MIB
"""What all streams together may decode to, every stage of every chain counted."""

DECODE_CHUNK = MIB
"""Streams are decoded this much at a time, and the output thrown away: memory stays a few
chunks whatever a stream decodes to."""

MAX_FILTERS = 4
"""Filters one stream may chain (/Filter [...]); a signed template needs at most two
(ASCII85 then Flate, or Flate then DCT)."""

MAX_IMAGE_PIXELS = 100_000_000
"""Width x height of any one image: 100 megapixels. A4 scanned at 600 dpi is 35 megapixels;
a viewer allocates width x height x colours bytes, whatever the compressed size."""

MAX_IMAGE_SIDE = 20_000
"""Pixels on either side of any one image: an A3 page at 1,200 dpi is 14,032 x 19,843."""

IMAGE_HEADER_BYTES = 64 * 1024
"""How much of a JPEG or JPEG 2000 stream is read for the size its header declares."""

INLINE_HEADER_MAX = 4096
"""The longest inline image dictionary (between BI and ID) looked for in content."""

MAX_INLINE_IMAGES = 100_000
"""Inline images (BI /...) in all content together; a scan or a template has a handful."""

MAX_NAME_MATCHES = 100_000
"""Refused or #-escaped names found by the byte scans together: a real template has none
or a few (a font named /Times#20New#20Roman); past this the file is too complex."""

EOF_WINDOW = 1024

# Most serious first: a file with several problems reports the first.
ACTIVE_CONTENT = (
    "javascript",
    "xfa",
    "launch",
    "action",
    "multimedia",
    "embedded_file",
    "open_action",
)

DETAILS = {
    "not_pdf": "The file cannot be read as a PDF.",
    "encrypted": "The PDF is encrypted.",
    "javascript": "The PDF contains JavaScript.",
    "xfa": "The PDF is an XFA form.",
    "launch": "The PDF contains an action that launches a program or opens a file.",
    "action": "The PDF contains an action other than a web link or a link within it.",
    "multimedia": "The PDF contains sound, video, 3D or rich media.",
    "embedded_file": "The PDF contains an embedded or attached file.",
    "open_action": "The PDF contains an action that runs automatically (/OpenAction or /AA).",
    "too_many_pages": f"The PDF has more than {MAX_PAGES} pages.",
    "too_complex": "The PDF needs too much memory or work to read.",
    "image_too_large": "The PDF contains an image with too many pixels.",
}

INCOMPLETE = "The PDF is incomplete: it does not end with %%EOF."
NO_PAGES = "The PDF has no pages."

# What each refused action does, for the partner's message (`subject`, code `action`).
ACTIONS = {
    "/GoToR": "GoToR, which opens another file",
    "/GoToE": "GoToE, which opens an embedded or attached document",
    "/GoToDp": "GoToDp, which opens a document part",
    "/Thread": "Thread, which jumps to an article",
    "/SubmitForm": "SubmitForm, which sends the form to an address",
    "/ImportData": "ImportData, which reads form data from a file",
    "/ResetForm": "ResetForm, which clears the form",
    "/Hide": "Hide, which shows or hides annotations",
    "/Named": "Named, which runs a viewer menu command",
    "/Sound": "Sound, which plays a sound",
    "/Movie": "Movie, which plays a movie",
    "/Rendition": "Rendition, which plays media",
    "/RichMediaExecute": "RichMediaExecute, which drives rich media",
    "/SetOCGState": "SetOCGState, which shows or hides layers",
    "/Trans": "Trans, a presentation transition",
    "/GoTo3DView": "GoTo3DView, which drives a 3D view",
}
UNKNOWN_ACTION = "an action of a type no PDF standard defines"
URI_NOT_WEB = "a link to an address that is not http, https or mailto"
URI_MISSING = "a link without an address"
_WEB_ADDRESS = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_URI_IGNORED = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these before the scheme

MEDIA_SUBTYPES = ("/RichMedia", "/Screen", "/Movie", "/Sound", "/3D", "/U3D", "/PRC")
MEDIA_TYPES = ("/Rendition", "/MediaClip", "/Sound", "/3D", "/RichMediaContent")
MEDIA_KEYS = ("/RichMediaContent", "/RichMediaSettings", "/3DD", "/Renditions")

# PDF delimiters and white space end a name token (ISO 32000-1, 7.2.2 and 7.3.5).
_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")
RAW_NAMES: dict[bytes, tuple[str, str | None]] = {
    b"JavaScript": ("javascript", None),
    b"JS": ("javascript", None),
    b"XFA": ("xfa", None),
    b"NeedsRendering": ("xfa", None),
    b"Launch": ("launch", None),
    **{
        name[1:].encode(): ("action", subject)
        for name, subject in ACTIONS.items()
        # /Thread also names article threads, /Trans is a common resource name (found by
        # the walk: an action, or a page's transition); media names are media first
        if name not in ("/Thread", "/Trans", "/Sound", "/Movie", "/Rendition")
    },
    **{
        name: ("multimedia", None)
        for name in (
            b"RichMedia",
            b"RichMediaContent",
            b"RichMediaSettings",
            b"Sound",
            b"Movie",
            b"Rendition",
            b"Renditions",
            b"MediaClip",
            b"3D",
            b"3DD",
            b"U3D",
            b"PRC",
            b"AlternatePresentations",
        )
    },
    b"EmbeddedFile": ("embedded_file", None),
    b"EmbeddedFiles": ("embedded_file", None),
    b"EF": ("embedded_file", None),
    b"FileAttachment": ("embedded_file", None),
    b"Collection": ("embedded_file", None),
    b"OpenAction": ("open_action", None),
    b"AA": ("open_action", None),
}

_REFUSED_NAME = re.compile(
    rb"/(?:("
    + b"|".join(re.escape(name) for name in sorted(RAW_NAMES, key=len, reverse=True))
    + rb")(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
    + rb"|([^\x00\t\n\x0c\r ()<>\[\]{}/%#]*#[^\x00\t\n\x0c\r ()<>\[\]{}/%]*))"
)
"""A refused name as a whole token, or any name with a #xx escape (decoded, then looked up):
only these reach Python code, so data full of harmless names is scanned at regex speed."""

Found = dict[str, "str | None"]
"""Problem code -> what was found (for the message), the first finding of each code."""


class TooComplex(Exception):
    pass


def result(
    problem: str | None,
    *,
    detail: str | None = None,
    pages: int = 0,
    text: str = "",
    subject: str | None = None,
) -> dict[str, Any]:
    return {
        "ok": problem is None,
        "problem": problem,
        "detail": detail or (DETAILS[problem] if problem else "The PDF passed every check."),
        "pages": pages,
        "subject": subject,
        "text": text,
        "signatures": [],
        "scan_pages": None,
    }


Regions = dict[int, list[tuple[str, tuple[float, ...]]]]
"""Page index -> the signature boxes on it: field name, (left, top, right, bottom) as
fractions of the page from its top left."""


def check(
    data: bytes, *, trust_roots: str | None = None, regions: Regions | None = None
) -> dict[str, Any]:
    """The verdict on `data`; never raises for any input."""
    try:
        with _pypdf_limits():
            return _check(data, trust_roots=trust_roots, regions=regions or {})
    except (LimitReachedError, RecursionError, MemoryError, TooComplex) as exc:
        return result("too_complex", detail=f"{DETAILS['too_complex']} ({_describe(exc)})")


def _check(data: bytes, *, trust_roots: str | None, regions: Regions) -> dict[str, Any]:
    if not data.startswith(b"%PDF-"):
        return result("not_pdf", detail="The file does not start with %PDF-.")
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        return result("not_pdf", detail=INCOMPLETE)
    budget = Budget(DECODE_BUDGET)
    raw_found = scan_raw_found(data, budget)

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

    found: Found = dict(raw_found)
    streams: list[StreamObject] = []
    if pages <= MAX_PAGES:
        for problem, subject in scan_objects_found(reader, streams).items():
            found.setdefault(problem, subject)
        for stream in streams:  # their names count as active content
            if _name(stream, "/Type") == "/ObjStm":
                names = NameScanner(found, budget)
                decode_stream(stream, budget, names.feed)
                names.feed(b"", final=True)
    for problem in ACTIVE_CONTENT:
        if problem in found:
            return result(problem, pages=pages, subject=found[problem])
    if pages > MAX_PAGES:
        return result("too_many_pages", detail=f"The PDF has {pages} pages.", pages=pages)
    too_large = check_streams(streams, budget)
    if too_large:
        width, height = too_large
        return result(
            "image_too_large",
            detail=f"{DETAILS['image_too_large']} ({width} x {height})",
            pages=pages,
            subject=f"{width:,} x {height:,}",
        )

    verdict = result(None, pages=pages, text=extract_text(reader))
    if pdftrust.has_signed_fields(reader):
        verdict["signatures"] = pdftrust.signatures(data, trust_roots=trust_roots)
    elif not verdict["text"]:
        try:
            verdict["scan_pages"] = pdftrust.scan_pages(data, regions=regions)
        except MemoryError:
            raise
        except Exception:  # pdfium cannot render what pypdf read: nothing to recognise
            verdict["scan_pages"] = []
    return verdict


def parse_regions(raw: str) -> Regions:
    """PDFCHECK_SCAN_REGIONS: {"1": [["customer_signature", [l, t, r, b]], ...]} (page index
    as a string, fractions of the page); anything else is no regions."""
    import json as _json

    try:
        return regions_from(_json.loads(raw) if raw else {})
    except ValueError:
        return {}


def regions_from(loaded: Any) -> Regions:
    """The signature boxes from their JSON form (see `parse_regions`); anything else is no
    regions."""
    try:
        regions = {
            int(page): [(str(field), tuple(rect[:4])) for field, rect in boxes]
            for page, boxes in loaded.items()
        }
    except (ValueError, TypeError, AttributeError):
        return {}
    fractions = all(
        len(rect) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rect)
        for boxes in regions.values()
        for _field, rect in boxes
    )
    return regions if fractions else {}


def check_request(
    data: bytes, *, trust_roots: str | None = None, regions: Any = None
) -> dict[str, Any]:
    """`check` with its options as a sandbox request carries them (JSON)."""
    return check(data, trust_roots=trust_roots, regions=regions_from(regions or {}))


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


# --- Names in the raw bytes ----------------------------------------------------------------


def scan_raw(data: bytes) -> set[str]:
    """Problem codes of the refused names in `data`, outside stream data."""
    return set(scan_raw_found(data, Budget(DECODE_BUDGET)))


def scan_raw_found(data: bytes, budget: Budget) -> Found:
    found: Found = {}
    for chunk in _outside_streams(data):
        scan_names(chunk, found, budget)
    return found


def scan_names(data: bytes, found: Found, budget: Budget) -> None:
    """Adds the refused names among the name tokens of `data` to `found`."""
    for match in _REFUSED_NAME.finditer(data):
        budget.count_name()
        name = match.group(1) or match.group(2)
        if b"#" in name:
            name = _HEX_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), name)
        refused = RAW_NAMES.get(name)
        if refused:
            found.setdefault(*refused)


class NameScanner:
    """`scan_names` over data that arrives in chunks (a decoded object stream): a name cut
    at the end of a chunk waits for the next one, so `/JSON` is never read as `/JS`."""

    def __init__(self, found: Found, budget: Budget) -> None:
        self.found = found
        self.budget = budget
        self.tail = b""

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        data = self.tail + chunk
        cut = len(data) if final else data.rfind(b"/", max(0, len(data) - 256))
        if cut < 0:  # no name starts in the last 256 bytes: none is cut (at most 127)
            cut = len(data)
        scan_names(data[:cut], self.found, self.budget)
        self.tail = data[cut:]


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


# --- The parsed objects --------------------------------------------------------------------

# Where an object sits: anywhere, in the place of an action, or in an /AA dictionary (each
# value an action), or in an action's /Next (an action or an array of actions).
PLAIN, ACTION, TRIGGERS, NEXT = range(4)
ACTION_KEYS = ("/A", "/PA", "/OpenAction")


def scan_objects(reader: PdfReader, streams: list[StreamObject] | None = None) -> set[str]:
    """Problem codes of the active content among the objects reachable from the trailer."""
    return set(scan_objects_found(reader, streams))


def scan_objects_found(reader: PdfReader, streams: list[StreamObject] | None = None) -> Found:
    """The active content among the objects reachable from the trailer and the object
    streams, each stream once added to `streams` (undecoded).

    Iterative, each indirect object once per place (plain, action, ...), so a cycle or a
    shared object costs one visit per place; at most MAX_OBJECTS visits."""
    found: Found = {}
    stack: list[tuple[Any, int]] = [(reader.trailer, PLAIN)]
    stack.extend((IndirectObject(number, 0, reader), PLAIN) for number in _object_streams(reader))
    seen: set[tuple[int, int, int]] = set()
    stream_refs: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item, place = stack.pop()
        reference = None
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if (*reference, place) in seen:
                continue
            seen.add((*reference, place))
            try:
                item = item.get_object()
            except Exception as exc:
                _reraise_limits(exc)
                continue  # a dangling reference is null (ISO 32000-1, 7.3.10)
        visited += 1
        if visited > MAX_OBJECTS:
            raise TooComplex(f"more than {MAX_OBJECTS} objects")
        if isinstance(item, DictionaryObject):
            if (
                streams is not None
                and isinstance(item, StreamObject)
                and reference is not None
                and reference not in stream_refs
            ):
                stream_refs.add(reference)
                streams.append(item)
            _active_content(item, ACTION if place == NEXT else place, found)
            is_action = place in (ACTION, NEXT)
            for key, value in dict.items(item):
                if place == TRIGGERS:
                    inner = ACTION
                elif key == "/AA":
                    inner = TRIGGERS
                elif key in ACTION_KEYS:
                    inner = ACTION
                elif key == "/Next" and is_action:
                    inner = NEXT
                else:
                    inner = PLAIN
                stack.append((value, inner))
        elif isinstance(item, ArrayObject):
            inner = ACTION if place == NEXT else PLAIN
            stack.extend((value, inner) for value in list.__iter__(item))
    return found


def _object_streams(reader: PdfReader) -> list[int]:
    """The object streams the cross-reference streams list: no reference reaches them."""
    listed = getattr(reader, "xref_objStm", None) or {}
    return sorted({entry[0] for entry in listed.values() if isinstance(entry, tuple)})


def _active_content(obj: DictionaryObject, place: int, found: Found) -> None:
    keys = set(dict.keys(obj))
    kind = _name(obj, "/Type")
    subtype = _name(obj, "/Subtype")
    action = _name(obj, "/S")
    if "/JS" in keys or "/JavaScript" in keys or action == "/JavaScript":
        found.setdefault("javascript")  # an action's script, or the /Names /JavaScript tree
    if "/XFA" in keys or "/NeedsRendering" in keys:
        found.setdefault("xfa")
    if action is not None and (place == ACTION or kind == "/Action" or action in ACTIONS):
        # In the place of an action (/A, /PA, /OpenAction, /AA, /Next), or saying it is one.
        # A dictionary there without /S is something else (a structure element's attributes
        # under /A, a movie's activation), so not an action.
        _check_action(obj, action, found)
    elif action == "/Launch":
        found.setdefault("launch")
    if kind == "/Page" and "/Trans" in keys:
        found.setdefault("action", ACTIONS["/Trans"])  # a presentation transition
    if (
        subtype in MEDIA_SUBTYPES
        or kind in MEDIA_TYPES
        or any(key in keys for key in MEDIA_KEYS)
        or "/AlternatePresentations" in keys
    ):
        found.setdefault("multimedia")
    if (
        "/EmbeddedFiles" in keys
        or "/EF" in keys
        or "/Collection" in keys
        or kind == "/EmbeddedFile"
        or subtype == "/FileAttachment"
    ):
        found.setdefault("embedded_file")
    if "/OpenAction" in keys or "/AA" in keys:
        found.setdefault("open_action")


def _check_action(obj: DictionaryObject, action: str, found: Found) -> None:
    if action == "/GoTo":
        return  # a destination in this document
    if action == "/URI":
        address = _resolve(dict.get(obj, "/URI"))
        if isinstance(address, bytes):
            address = address.decode("latin-1")
        if not isinstance(address, str):
            found.setdefault("action", URI_MISSING)
            return
        address = _URI_IGNORED.sub("", address)
        if address.lower().startswith("javascript:"):
            found.setdefault("javascript")
        elif not _WEB_ADDRESS.match(address):
            found.setdefault("action", URI_NOT_WEB)
        return
    if action == "/JavaScript":
        found.setdefault("javascript")
    elif action == "/Launch":
        found.setdefault("launch")
    else:
        found.setdefault("action", ACTIONS.get(action, UNKNOWN_ACTION))


def _resolve(value: Any) -> Any:
    if isinstance(value, IndirectObject):
        try:
            return value.get_object()
        except Exception as exc:
            _reraise_limits(exc)
            return None
    return value


def _name(obj: DictionaryObject, key: str) -> str | None:
    value = dict.get(obj, key)
    if isinstance(value, IndirectObject):
        try:
            value = value.get_object()
        except Exception:
            return None
    return str(value) if isinstance(value, str) else None


# --- Streams: decoded sizes and images -------------------------------------------------------


class Budget:
    """What is left of the work one check may do: DECODE_BUDGET bytes decoded,
    MAX_NAME_MATCHES names and MAX_INLINE_IMAGES inline images looked at. Past any of them
    is TooComplex."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total
        self.names_left = MAX_NAME_MATCHES
        self.inline_images_left = MAX_INLINE_IMAGES

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise TooComplex(f"the streams decode to more than {self.total // MIB} MB")

    def count_name(self) -> None:
        self.names_left -= 1
        if self.names_left < 0:
            raise TooComplex(f"more than {MAX_NAME_MATCHES:,} refused or escaped names")

    def count_inline_image(self) -> None:
        self.inline_images_left -= 1
        if self.inline_images_left < 0:
            raise TooComplex(f"more than {MAX_INLINE_IMAGES:,} inline images")


def check_streams(streams: Iterable[StreamObject], budget: Budget) -> tuple[int, int] | None:
    """The width and height of the first image past MAX_IMAGE_SIDE or MAX_IMAGE_PIXELS, or
    None; TooComplex when a stream decodes past MAX_DECODED_STREAM or all of them past the
    budget (a decompression bomb anywhere: page content, image, unused object; pypdf would
    only meet the ones its text extraction reads). Object streams were decoded already."""
    for stream in streams:
        kind = _name(stream, "/Type")
        if kind == "/ObjStm":
            continue
        if _name(stream, "/Subtype") == "/Image":
            size = _dimensions(stream)
            if size and _too_large(*size):
                return size
            size = decode_stream(stream, budget)
            if size and _too_large(*size):
                return size
        elif kind in ("/XRef", "/Metadata") or _is_font_program(stream):
            decode_stream(stream, budget)
        else:  # possibly content: look for inline images in it
            inline = InlineImages(budget)
            size = decode_stream(stream, budget, inline.feed)
            inline.feed(b"", final=True)
            if size and _too_large(*size):
                return size
            if inline.too_large:
                return inline.too_large
    return None


def _too_large(width: int, height: int) -> bool:
    return max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS


def _dimensions(stream: DictionaryObject) -> tuple[int, int] | None:
    width, height = _number(stream, "/Width"), _number(stream, "/Height")
    return (width, height) if width and height else None


def _number(obj: DictionaryObject, key: str) -> int | None:
    value = _resolve(dict.get(obj, key))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return max(int(value), 0)
    except (OverflowError, ValueError):  # infinite or not a number: as large as can be
        return 2**62


def _is_font_program(stream: DictionaryObject) -> bool:
    keys = dict.keys(stream)
    return "/Length1" in keys or "/Length2" in keys or "/Length3" in keys


# A stage of a filter chain: decoded chunks in, decoded chunks out, each at most a few
# DECODE_CHUNK. Damaged data ends a stage where the damage starts: a viewer cannot decode
# further either.
Stage = Callable[[Iterator[bytes], DictionaryObject | None], Iterator[bytes]]

IMAGE_FILTERS = (
    "/DCTDecode",
    "/DCT",
    "/JPXDecode",
    "/CCITTFaxDecode",
    "/CCF",
    "/JBIG2Decode",
)


def decode_stream(
    stream: StreamObject, budget: Budget, sink: Callable[[bytes], None] | None = None
) -> tuple[int, int] | None:
    """Decodes `stream` through every filter of its chain, DECODE_CHUNK at a time, counting
    each stage against MAX_DECODED_STREAM and `budget` and handing the output of the last
    one to `sink`. Stops (TooComplex) as soon as a cap is passed. Returns the image size a
    JPEG or JPEG 2000 header declares, when the chain ends with one."""
    filters, parameters = _filter_chain(stream)
    raw = getattr(stream, "_data", b"")
    data = raw if isinstance(raw, bytes) else b""
    chunks: Iterator[bytes] = (
        data[start : start + DECODE_CHUNK] for start in range(0, len(data), DECODE_CHUNK)
    )
    image_filter = None
    for index, name in enumerate(filters):
        last = index == len(filters) - 1
        if name in IMAGE_FILTERS:
            if not last:
                raise TooComplex(f"the image filter {name} is followed by another filter")
            image_filter = name
            break
        stage = STAGES.get(name or "")
        if stage is None:
            raise TooComplex(f"a stream uses a filter this check cannot measure: {name}"[:120])
        if not last and _predictor(parameters[index]) > 1:
            raise TooComplex("a predictor in the middle of a filter chain")
        chunks = _counted(stage(chunks, parameters[index]), budget)
    header = bytearray()
    for chunk in chunks:
        if image_filter and len(header) < IMAGE_HEADER_BYTES:
            header += chunk[: IMAGE_HEADER_BYTES - len(header)]
        if sink is not None:
            sink(chunk)
    if image_filter in ("/DCTDecode", "/DCT"):
        return jpeg_size(bytes(header))
    if image_filter == "/JPXDecode":
        return jpx_size(bytes(header))
    return None


def _filter_chain(stream: StreamObject) -> tuple[list[str | None], list[DictionaryObject | None]]:
    filters = _resolve(dict.get(stream, "/Filter"))
    names = list.__iter__(filters) if isinstance(filters, ArrayObject) else [filters]
    chain = [_as_name(_resolve(name)) for name in names if _resolve(name) is not None]
    if len(chain) > MAX_FILTERS:
        raise TooComplex(f"a stream chains more than {MAX_FILTERS} filters")
    parameters = _resolve(dict.get(stream, "/DecodeParms"))
    listed = list(list.__iter__(parameters)) if isinstance(parameters, ArrayObject) else []
    if not listed:
        listed = [parameters] * len(chain)
    resolved = [_resolve(value) for value in listed] + [None] * len(chain)
    return chain, [
        value if isinstance(value, DictionaryObject) else None for value in resolved[: len(chain)]
    ]


def _as_name(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and str(value).startswith("/") else None


def _predictor(parameters: DictionaryObject | None) -> int:
    return (_number(parameters, "/Predictor") or 1) if parameters is not None else 1


def _counted(chunks: Iterator[bytes], budget: Budget) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_DECODED_STREAM:
            raise TooComplex(f"a stream decodes to more than {MAX_DECODED_STREAM // MIB} MB")
        budget.spend(len(chunk))
        yield chunk


def inflate(
    chunks: Iterable[bytes], _parameters: DictionaryObject | None = None
) -> Iterator[bytes]:
    """FlateDecode, zlib or gzip framed (as pypdf's recovery reads it)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
    try:
        for chunk in chunks:
            pending = chunk
            while not inflater.eof:
                out = inflater.decompress(pending, DECODE_CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
                elif not pending:
                    break
            if inflater.eof:
                return
    except zlib.error:
        return


def inflated_size(data: bytes, limit: int) -> int:
    """How many bytes zlib `data` inflates to, counting no further than just past `limit`.
    Damaged data counts what inflated before the damage."""
    total = 0
    for chunk in inflate([data]):
        total += len(chunk)
        if total > limit:
            break
    return total


def lzw_decode(chunks: Iterable[bytes], parameters: DictionaryObject | None) -> Iterator[bytes]:
    """LZWDecode (ISO 32000-1, 7.4.4), as pypdf and pdf.js read it: 9 to 12 bit codes, 256
    clears the table, 257 ends the data, /EarlyChange 1 (the default) or 0."""
    early = 1 if parameters is None else _number(parameters, "/EarlyChange")
    early = 1 if early is None else min(early, 1)
    table: list[bytes] = [bytes((i,)) for i in range(256)] + [b"", b""]
    width, bits, count = 9, 0, 0
    previous: bytes | None = None
    out = bytearray()
    for chunk in chunks:
        for byte in chunk:
            bits = (bits << 8) | byte
            count += 8
            while count >= width:
                count -= width
                code = bits >> count
                bits &= (1 << count) - 1
                if code == 256:
                    del table[258:]
                    width, previous = 9, None
                    continue
                if code == 257:
                    if out:
                        yield bytes(out)
                    return
                if code < len(table):
                    entry = table[code]
                    if previous is not None and len(table) < 4096:  # full: 12 bits go on
                        table.append(previous + entry[:1])
                elif code == len(table) and previous is not None:
                    entry = previous + previous[:1]
                    table.append(entry)
                else:
                    if out:
                        yield bytes(out)
                    return  # damaged
                out += entry
                previous = entry
                if len(table) + early >= 1 << width and width < 12:
                    width += 1
            if len(out) >= DECODE_CHUNK:
                yield bytes(out)
                out.clear()
    if out:
        yield bytes(out)


def ascii_hex_decode(chunks: Iterable[bytes], _parameters: Any = None) -> Iterator[bytes]:
    odd = b""
    for chunk in chunks:
        end = chunk.find(b">")
        digits = odd + (chunk if end < 0 else chunk[:end]).translate(None, _WHITESPACE)
        even = len(digits) // 2 * 2
        try:
            out = bytes.fromhex(digits[:even].decode("ascii"))
        except ValueError:
            return
        odd = digits[even:]
        if out:
            yield out
        if end >= 0:
            break
    with contextlib.suppress(ValueError):
        if odd:
            yield bytes.fromhex((odd + b"0").decode("ascii"))


def ascii85_decode(chunks: Iterable[bytes], _parameters: Any = None) -> Iterator[bytes]:
    pending = b""
    first = True
    for chunk in chunks:
        if first:  # an optional <~ before the data (pypdf reads it)
            chunk, first = chunk.lstrip(_WHITESPACE).removeprefix(b"<~"), False
        end = chunk.find(b"~")  # only the end marker ~> has one
        text = (chunk if end < 0 else chunk[:end]).translate(None, _WHITESPACE)
        text = pending + text.replace(b"z", b"!!!!!")  # z: four zero bytes, one group
        whole = len(text) // 5 * 5
        try:
            out = base64.a85decode(text[:whole])
        except ValueError:
            return
        pending = text[whole:]
        if out:
            yield out
        if end >= 0:
            break
    with contextlib.suppress(ValueError):
        if pending:
            yield base64.a85decode(pending)


def run_length_decode(chunks: Iterable[bytes], _parameters: Any = None) -> Iterator[bytes]:
    pending = b""
    out = bytearray()
    for chunk in chunks:
        data = pending + chunk
        index, size = 0, len(data)
        while index < size:
            length = data[index]
            if length == 128:  # end of data
                if out:
                    yield bytes(out)
                return
            if length < 128:
                if index + length + 2 > size:
                    break  # the run goes on in the next chunk
                out += data[index + 1 : index + length + 2]
                index += length + 2
            else:
                if index + 2 > size:
                    break
                out += data[index + 1 : index + 2] * (257 - length)
                index += 2
            if len(out) >= DECODE_CHUNK:
                yield bytes(out)
                out.clear()
        pending = data[index:]
    if out:
        yield bytes(out)


def _identity(chunks: Iterator[bytes], _parameters: Any = None) -> Iterator[bytes]:
    return chunks  # /Crypt in a file that is not encrypted: the identity filter


STAGES: dict[str, Stage] = {
    "/FlateDecode": inflate,
    "/Fl": inflate,
    "/LZWDecode": lzw_decode,
    "/LZW": lzw_decode,
    "/ASCIIHexDecode": ascii_hex_decode,
    "/AHx": ascii_hex_decode,
    "/ASCII85Decode": ascii85_decode,
    "/A85": ascii85_decode,
    "/RunLengthDecode": run_length_decode,
    "/RL": run_length_decode,
    "/Crypt": _identity,
}


def jpeg_size(header: bytes) -> tuple[int, int] | None:
    """Width and height in the first SOF marker of a JPEG, read as libjpeg reads markers
    (bytes between segments skipped up to the next 0xFF)."""
    if not header.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 4 <= len(header):
        if header[index] != 0xFF:
            index = header.find(b"\xff", index)
            if index < 0:
                return None
            continue
        marker = header[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header first
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if index + 9 > len(header):
                return None
            height, width = struct.unpack(">HH", header[index + 5 : index + 9])
            return width, height
        index += 2 + int.from_bytes(header[index + 2 : index + 4], "big")
    return None


def jpx_size(header: bytes) -> tuple[int, int] | None:
    """Width and height of a JPEG 2000 image: the SIZ marker of a bare codestream, or the
    largest of the JP2 image header box (ihdr) and the SIZ of its codestream box."""
    if header.startswith(b"\xff\x4f\xff\x51"):
        return _siz(header[4:])
    found: list[tuple[int, int]] = []
    index = 0
    while index + 8 <= len(header):
        length, box = struct.unpack(">I4s", header[index : index + 8])
        body = index + 8
        if length == 1 and index + 16 <= len(header):
            length, body = struct.unpack(">Q", header[index + 8 : index + 16])[0], index + 16
        if box == b"jp2h":  # a superbox: look inside
            index = body
            continue
        if box == b"ihdr" and body + 8 <= len(header):
            height, width = struct.unpack(">II", header[body : body + 8])
            found.append((width, height))
        if box == b"jp2c":
            if header[body : body + 4] == b"\xff\x4f\xff\x51":
                size = _siz(header[body + 4 :])
                if size:
                    found.append(size)
            break
        if length < 8:  # 0: to the end of the file; below 8: damaged
            break
        index += length
    if not found:
        return None
    return max(w for w, _h in found), max(h for _w, h in found)


def _siz(siz: bytes) -> tuple[int, int] | None:
    if len(siz) < 20:
        return None
    width, height, x_offset, y_offset = struct.unpack(">IIII", siz[4:20])
    return max(width - x_offset, 0), max(height - y_offset, 0)


# BI as an operator (after white space or the end of an operand, not inside a name) that
# begins a dictionary (a key comes next).
# The literal comes first, so the search runs at memchr speed.
_INLINE_BEGIN = re.compile(rb"BI(?<![^\x00\t\n\x0c\r )\]>}]BI)(?=[\x00\t\n\x0c\r ]*/)")
_INLINE_DATA = re.compile(rb"ID(?<![^\x00\t\n\x0c\r ]ID)(?=[\x00\t\n\x0c\r ])")
_OPENS = re.compile(rb"[(<\[]")  # a string, a dictionary or an array could hide an "ID"
_INLINE_SIZE = re.compile(rb"/(W|Width|H|Height)[\x00\t\n\x0c\r ]*([+-]?[0-9]{1,15})")


class InlineImages:
    """Inline images (`BI /W .. /H .. ID <data> EI`) in decoded content that arrives in
    chunks; `too_large` is the width and height of the first past the caps.

    Each BI's sizes are read from what follows it up to its ID; when a string, a dictionary or
    an array comes first (which could hold a false "ID"), up to the next BI or
    INLINE_HEADER_MAX bytes, the largest /W and /H there counting. Linear: each region is
    read once, and at most INLINE_HEADER_MAX bytes wait from one chunk for the next."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.tail = b""
        self.too_large: tuple[int, int] | None = None

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        data = self.tail + chunk
        self.tail = b""
        begin = _INLINE_BEGIN.search(data)
        while begin is not None and self.too_large is None:
            limit = begin.end() + INLINE_HEADER_MAX
            following = _INLINE_BEGIN.search(data, begin.end(), limit)
            end = following.start() if following else limit
            if end > len(data) and not final:  # its dictionary may go on in the next chunk
                self.tail = data[begin.start() :]
                return
            self.budget.count_inline_image()
            region = data[begin.end() : end]
            image_data = _INLINE_DATA.search(region)
            if image_data and not _OPENS.search(region, 0, image_data.start()):
                region = region[: image_data.start()]
            self._measure(region)
            begin = following or _INLINE_BEGIN.search(data, end)
        if not final:  # keep a BI cut in two, or one whose key is still to come
            window = data[-(INLINE_HEADER_MAX + 3) :]
            stripped = window.rstrip(_WHITESPACE)
            if stripped or len(window) == len(data):
                kept = len(data) - len(window) + len(stripped)
                self.tail = data[max(kept - 3, 0) :]

    def _measure(self, dictionary: bytes) -> None:
        width = height = 0
        for key, value in _INLINE_SIZE.findall(dictionary):
            number = max(int(value), 0)
            if key in (b"W", b"Width"):
                width = max(width, number)
            else:
                height = max(height, number)
        if _too_large(width, height):
            self.too_large = (width, height)


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


def quiet() -> None:
    """pypdf warns and logs about every oddity of a hostile file: nobody reads them here."""
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def main() -> int:
    """One file on stdin, for a run by hand; uploads go through `redemptions.sandbox`."""
    import os

    limit_resources()
    quiet()
    data = sys.stdin.buffer.read()
    verdict = check(
        data,
        trust_roots=os.environ.get("PDFCHECK_TRUST_ROOTS") or None,
        regions=parse_regions(os.environ.get("PDFCHECK_SCAN_REGIONS", "")),
    )
    sys.stdout.write(json.dumps(verdict))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
