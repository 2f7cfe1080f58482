"""Check an uploaded SOW or POE before anything is stored (R-DOC-1).

Only the program's templates are accepted: a real PDF (not just named .pdf), within the size
limit, not encrypted, with nothing a signed template does not need (JavaScript, XFA, actions
other than web links and links within the document, media, embedded files, decompression
bombs, oversized images: `redemptions.pdfcheck` lists them), whose text carries this
voucher's code and the template ID. Checks, cheapest first:

1. size: read in chunks, never more than `max_bytes + 1` bytes (`too_large`, `empty`);
2. magic bytes: the file starts with `%PDF-` at byte 0, which also refuses GIF/PDF
   polyglots and HTML pages renamed .pdf (`not_pdf`);
3. `redemptions.pdfcheck` in a fresh process for each upload, forked by this process's
   `redemptions.sandbox` server and limited to 768 MB of address space, 10 s of CPU and
   15 s of wall clock, with no secrets in its environment: the parser never runs in the web
   worker, and a decompression bomb or a pathological file costs only that process
   (`too_complex`); its problem codes (`javascript`, `xfa`, `launch`, `action`,
   `multimedia`, `embedded_file`, `open_action`, `image_too_large`, ...) are the refusal
   codes;
4. the voucher code in the extracted text (`wrong_voucher`, `missing_voucher`);
5. the template ID in the extracted text (`wrong_template`);
6. R-DOC-1, round 2: a document with text must carry two digital (PAdES) signatures, the
   customer's and the partner's, each intact, covering the whole document, with nothing
   but form filling and signatures after it (`unsigned`, `one_signature`,
   `signature_broken`, `signature_gap`, `changed_after_signing`); a document without text
   is a scan of the printed template, and every page's QR code must name this voucher and
   this template (`scan_wrong_voucher`, `scan_wrong_template`, `scan_unreadable`). The
   signatures are read and the scan's pages rendered in the same child process
   (`redemptions.pdftrust`); the reviewer confirms a scan's wet-ink signatures later.

Every refusal is an `ApplicationError` with rule R-DOC-1, a problem code and a message that
tells the partner what is wrong and what to do, also under `fields["document"]`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.conf import settings

from core.errors import ApplicationError
from redemptions import pdfcheck, sandbox
from redemptions.template_qr import parse_qr_payload
from vouchers.codes import MalformedCode, normalise_code

RULE = "R-DOC-1"
READ_CHUNK = 64 * 1024
SANDBOX_COMMAND = (sys.executable, "-m", "redemptions.sandbox")
CHECK_TARGET = sandbox.DEFAULT_TARGET
CHECK_TIMEOUT_SECONDS: float = 15
START_SECONDS = 10
CHECK_MEMORY_BYTES = 768 * 1024 * 1024
CHECK_CPU_SECONDS = 10
MB = 1024 * 1024

# What a file that is not a PDF starts like, for the message.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a WebP image or other RIFF media"),
    (b"PK\x03\x04", "a ZIP archive (a Word .docx file is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
_MARKUP = (
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"<?xml", "an XML file"),
)

_DASHES = r"\-\u2010-\u2015\u2212"  # inside [...]: ASCII, Unicode dashes, minus
_SEPARATORS = re.compile(rf"[\s{_DASHES}]+")
_CODE_CHAR = "[2-9A-HJ-NP-Z]"
_CODE_PATTERN = re.compile(
    rf"(?<![0-9A-Za-z]){_CODE_CHAR}{{4}}(?:\s*[{_DASHES}]\s*{_CODE_CHAR}{{4}}){{3}}(?![0-9A-Za-z])"
)
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,]{0,79}")
_TEMPLATE_PATTERN = re.compile(
    rf"FTDV\s*[{_DASHES}]\s*(SOW|POE)\s*[{_DASHES}]\s*v\s*(\d+)(?!\d)", re.IGNORECASE
)

_PROBLEM_MESSAGES = {
    "encrypted": "The PDF is password-protected or encrypted; upload it without encryption "
    "(remove the password or the editing restrictions, or print it to a new PDF).",
    "javascript": "The PDF contains JavaScript; print it to a new PDF without scripts and "
    "upload that.",
    "launch": "The PDF contains an action that launches a program or opens another file; "
    "print it to a new PDF without actions and upload that.",
    "open_action": "The PDF contains actions that run automatically (when it is opened or "
    "viewed); print it to a new PDF without actions and upload that.",
    "xfa": "The PDF is an XFA form, which lays itself out and runs its own scripts; the "
    "signed template is a plain PDF. Print it to a new PDF and upload that.",
    "multimedia": "The PDF contains sound, video, 3D or rich media; print it to a new PDF "
    "without them and upload that.",
    "embedded_file": "The PDF has a file attached or embedded in it; upload the signed "
    "template alone (printing it to a new PDF removes attachments).",
    "too_complex": "The PDF is too complex to check safely: reading it needs too much memory "
    "or time. Print it to a new PDF and upload that.",
}


@dataclass(frozen=True)
class CheckedDocument:
    """An upload that passed every check; `content` is exactly the uploaded bytes.

    `signatures` is what the reviewer is shown (api.md, `signatures` on a request): one
    `{name, kind, intact, trusted, signed_at, detail}` per signature, `kind` "digital" (the
    name from the certificate) or "scan" (a wet-ink signature box of a scan: `name` and
    `intact` None, the reviewer confirms it). `scan` is None for a digital document; for a
    scan, `{"pages": n, "boxes": [{"page", "field", "ink", "empty", "png"}]}`, each `png` a
    base64 PNG crop of a signature box for the reviewer."""

    content: bytes
    sha256: str
    size: int
    pages: int
    signatures: list[dict[str, Any]] = field(default_factory=list)
    scan: dict[str, Any] | None = None

    @property
    def is_scan(self) -> bool:
        return self.scan is not None


def refuse(code: str, message: str) -> NoReturn:
    raise ApplicationError(message, rule=RULE, code=code, fields={"document": [message]})


def read_upload(upload: Any, *, max_bytes: int) -> bytes:
    """The bytes of a Django `UploadedFile` (or any object with `.read()` or `.chunks()`).

    Reads in chunks and stops after `max_bytes + 1` bytes: a file over the limit is refused
    without reading (or holding) the rest of it."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        _refuse_size(declared, max_bytes)
    limit = max_bytes + 1
    data = bytearray()
    read = getattr(upload, "read", None)
    if callable(read):
        seek = getattr(upload, "seek", None)
        if callable(seek):
            with contextlib.suppress(OSError, ValueError):  # not seekable: read on from here
                seek(0)
        while len(data) < limit:
            chunk = read(min(READ_CHUNK, limit - len(data)))
            if not chunk:
                break
            data += chunk
    else:
        for chunk in upload.chunks():
            data += chunk[: limit - len(data)]
            if len(data) >= limit:
                break
    if len(data) > max_bytes:
        _refuse_size(declared if isinstance(declared, int) else None, max_bytes)
    return bytes(data)


def check_document(
    *, upload: Any, voucher_code: str, template_id: str, max_bytes: int | None = None
) -> CheckedDocument:
    """The upload if it is the signed template `template_id` for voucher `voucher_code`;
    otherwise `ApplicationError` (R-DOC-1) saying what is wrong. Stores nothing."""
    limit = settings.DOCUMENT_MAX_BYTES if max_bytes is None else max_bytes
    data = read_upload(upload, max_bytes=limit)
    if not data:
        refuse("empty", "The file is empty (0 bytes); upload the signed PDF again.")
    if not data.startswith(b"%PDF-"):
        refuse("not_pdf", _not_pdf_message(data))

    verdict = run_pdfcheck(data, regions=_regions(template_id))
    if not verdict["ok"]:
        known = verdict["problem"] in pdfcheck.DETAILS
        refuse(verdict["problem"] if known else "too_complex", _problem_message(verdict))
    text: str = verdict["text"]
    checked = {
        "content": data,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "pages": verdict["pages"],
    }
    if not text.strip() and not verdict["signatures"]:
        scan = _require_scan(verdict["scan_pages"], voucher_code, template_id)
        return CheckedDocument(**checked, signatures=_scan_signatures(scan), scan=scan)
    _require_voucher(text, voucher_code, template_id)
    _require_template(text, template_id)
    signatures = _require_signatures(verdict["signatures"])
    return CheckedDocument(**checked, signatures=signatures)


# --- R-DOC-1, round 2: signed digitally, or a scan of the printed template ---------------

UNSIGNED = (
    "This is the template without signatures. R-DOC-1 needs it signed by both the customer "
    "and the partner: digitally, each in their signature field, or printed, signed by hand "
    "and scanned (every page)."
)


def _require_signatures(signatures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two digital signatures, each intact, covering the whole document, with nothing but
    form filling and signatures after it: what the reviewer is shown, else a refusal."""
    if not signatures:
        refuse("unsigned", UNSIGNED)
    for signature in signatures:
        who = signature["name"] or "a signer"
        if not signature["intact"]:
            refuse(
                "signature_broken",
                f"The signature of {who} is broken: the document was changed after it was "
                "signed, or the signature is damaged (R-DOC-1). Have the unchanged template "
                "signed again.",
            )
        if not signature["covers_whole"]:
            refuse(
                "signature_gap",
                f"The signature of {who} does not cover the whole document: part of it was "
                "left out of what was signed (R-DOC-1). Have the unchanged template signed "
                "again.",
            )
        if signature["modification"] == "changed":
            refuse(
                "changed_after_signing",
                f"The document was changed after {who} signed it: only filling in the form "
                "and adding signatures may follow a signature (R-DOC-1). Have the final "
                "document signed again.",
            )
    names = {signature["name"] for signature in signatures}
    if len(signatures) < 2:
        refuse(
            "one_signature",
            f"The document carries one signature ({signatures[0]['name'] or 'unnamed'}); "
            "R-DOC-1 needs two, the customer's and the partner's. Have the other party sign "
            "it too.",
        )
    if len(names) < 2:
        refuse(
            "one_signature",
            f"Both signatures are by {signatures[0]['name'] or 'the same signer'}; R-DOC-1 "
            "needs the customer's and the partner's. Have the other party sign it.",
        )
    return [
        {
            "field": signature["field"],
            "name": signature["name"],
            "kind": "digital",
            "intact": True,
            "trusted": signature["trusted"],
            "signed_at": signature["signed_at"],
            "detail": signature["detail"],
        }
        for signature in signatures
    ]


def _require_scan(
    pages: list[dict[str, Any]] | None, voucher_code: str, template_id: str
) -> dict[str, Any]:
    """A scan of the printed template `template_id` for `voucher_code`: every page carries
    a QR code that decodes (`redemptions.template_qr`), and every one names this voucher
    and this template."""
    if not pages:
        refuse(
            "scan_unreadable",
            f"The PDF has no text and no page could be read as a scan of the template for "
            f"voucher {voucher_code} (R-DOC-1). Sign the template digitally, or print it, "
            "sign it by hand and scan every page at 150 dpi or more.",
        )
    wanted = _squash(voucher_code)
    boxes: list[dict[str, Any]] = []
    for page in pages:
        ours = [found for found in map(parse_qr_payload, page["payloads"]) if found]
        if not ours:
            refuse(
                "scan_unreadable",
                f"The QR code on page {page['page']} of the scan cannot be read, so it cannot "
                f"be recognised as the template for voucher {voucher_code} (R-DOC-1). Scan "
                "every page again, whole and straight, at 150 dpi or more.",
            )
        for found in ours:
            if _squash(found.voucher_code) != wanted:
                refuse(
                    "scan_wrong_voucher",
                    f"Page {page['page']} of the scan is the template for voucher "
                    f"{found.voucher_code}, not {voucher_code} (R-DOC-1); print, sign and "
                    "scan this voucher's template.",
                )
            if found.template_id != template_id:
                refuse(
                    "scan_wrong_template",
                    f"Page {page['page']} of the scan is template {found.template_id}, not "
                    f"{template_id} (R-DOC-1); print, sign and scan the {template_id} "
                    "template for this voucher.",
                )
        boxes.extend({"page": page["page"], **box} for box in page["boxes"])
    return {"pages": len(pages), "boxes": boxes}


def _scan_signatures(scan: dict[str, Any]) -> list[dict[str, Any]]:
    """A scan's wet-ink signature boxes as the reviewer sees them (api.md: kind "scan")."""
    return [
        {
            "field": box["field"],
            "page": box["page"],
            "name": None,
            "kind": "scan",
            "intact": None,
            "trusted": None,
            "signed_at": None,
            "detail": (
                f"Wet-ink signature box for the {signature_party(box['field']) or 'signer'} "
                f"on page {box['page']}: "
                + ("it looks empty" if box["empty"] else "ink found")
                + "; the reviewer confirms the signature (R-DOC-1)."
            ),
        }
        for box in scan["boxes"]
    ]


def signature_party(field: str) -> str | None:
    """`customer` or `partner` for the template's signature fields, else None."""
    head = field.split("_", 1)[0]
    return head if head in ("customer", "partner") else None


def _regions(template_id: str) -> pdfcheck.Regions:
    """Where the template's signature boxes are, for the scan's crops (fractions of the
    page): from its own layout, rendered once per process."""
    from redemptions.template_pdfs import signature_regions

    return signature_regions(template_id)


# --- The subprocess ----------------------------------------------------------------------


def run_pdfcheck(data: bytes, *, regions: pdfcheck.Regions | None = None) -> dict[str, Any]:
    """The verdict of `CHECK_TARGET` on `data`, in a fresh process with resource limits
    (a child of `redemptions.sandbox`); the signatures are checked against
    settings.DOCUMENT_TRUST_ROOTS, a scan's signature boxes cropped at `regions`.

    A timeout, a crash (killed at the memory or CPU limit) or output that is not a verdict
    all mean the file was too much to read: `too_complex`."""
    roots = str(getattr(settings, "DOCUMENT_TRUST_ROOTS", "") or "")
    options = {
        "trust_roots": roots or None,
        "regions": {
            str(page): [[name, list(rect)] for name, rect in boxes]
            for page, boxes in (regions or {}).items()
        },
    }
    ended = _sandbox().run(data, options=options)
    if ended.timed_out:
        return pdfcheck.result("too_complex", detail="The check ran out of time.")
    verdict = _parse_verdict(ended.output) if ended.exit == 0 else None
    if verdict is None:
        status = ended.exit if ended.signal is None else -ended.signal
        return pdfcheck.result("too_complex", detail=f"The check stopped (exit status {status}).")
    return verdict


@dataclass(frozen=True)
class Ended:
    """How one check's child ended, and what it wrote."""

    exit: int | None
    signal: int | None
    timed_out: bool
    output: bytes


class Sandbox:
    """This process's fork server (`redemptions.sandbox`), started on first use with the
    scrubbed environment and the current limits, restarted when it dies, when the limits
    change, and in a forked copy of this process (which must not share its pipes). One
    check at a time per process: a thread waits for the one before it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._key: tuple[Any, ...] = ()

    def run(self, data: bytes, *, options: dict[str, Any]) -> Ended:
        """How the check of `data` (with the check's keyword `options`) ended. A server
        that died since the last check is started again once; one that fails twice counts
        as a check out of time."""
        request = sandbox.request(data, options=options)
        with self._lock:
            for _attempt in (1, 2):
                try:
                    return self._ask(self._ready(), request)
                except (OSError, ValueError, KeyError, _Hung):
                    self.stop()
            return Ended(exit=None, signal=None, timed_out=True, output=b"")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for stream in (process.stdin, process.stdout) if process else ():
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _ready(self) -> subprocess.Popen[bytes]:
        key = (
            os.getpid(),
            SANDBOX_COMMAND,
            CHECK_TARGET,
            CHECK_TIMEOUT_SECONDS,
            CHECK_MEMORY_BYTES,
            CHECK_CPU_SECONDS,
        )
        process = self._process
        if process is not None and key[0] != self._key[0]:
            self._process = process = None  # a forked copy: leave the parent's server alone
        if process is not None and (key != self._key or process.poll() is not None):
            self.stop()
            process = None
        if process is None:
            process = subprocess.Popen(  # noqa: S603 - fixed command, PDFs go to stdin
                SANDBOX_COMMAND,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=settings.BASE_DIR,
                env=_child_environment(),
            )
            self._process, self._key = process, key
            if (
                _read(process, len(sandbox.READY), deadline=_deadline(START_SECONDS))
                != sandbox.READY
            ):
                self.stop()
                raise _Hung("the check server did not start")
        return process

    def _ask(self, process: subprocess.Popen[bytes], request: bytes) -> Ended:
        assert process.stdin is not None
        process.stdin.write(request)
        process.stdin.flush()
        deadline = _deadline(CHECK_TIMEOUT_SECONDS + START_SECONDS)
        line = bytearray()
        while not line.endswith(b"\n"):
            line += _read(process, 1, deadline=deadline)
            if len(line) > 256:
                raise _Hung("the check server answered nonsense")
        answer = json.loads(line)
        output = _read(process, int(answer["length"]), deadline=deadline)
        return Ended(
            exit=answer["exit"],
            signal=answer["signal"],
            timed_out=bool(answer["timed_out"]),
            output=output,
        )


class _Hung(Exception):
    pass


def _deadline(seconds: float) -> float:
    return time.monotonic() + seconds


def _read(process: subprocess.Popen[bytes], size: int, *, deadline: float) -> bytes:
    """Exactly `size` bytes from the server, or `_Hung` past `deadline` or at its end."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks = bytearray()
    while len(chunks) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise _Hung("the check server did not answer in time")
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            raise _Hung("the check server stopped")
        chunks += chunk
    return bytes(chunks)


_SANDBOX = Sandbox()


def _sandbox() -> Sandbox:
    return _SANDBOX


def _child_environment() -> dict[str, str]:
    """No secrets from the web process's environment reach the parser of hostile files: the
    trust roots go by path, the signature boxes as JSON, with each request."""
    env = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
        # Each check's child applies these to itself before reading the upload.
        "PDFCHECK_MEMORY_BYTES": str(CHECK_MEMORY_BYTES),
        "PDFCHECK_CPU_SECONDS": str(CHECK_CPU_SECONDS),
        "PDFCHECK_WALL_MS": str(round(CHECK_TIMEOUT_SECONDS * 1000)),
        "PDFCHECK_TARGET": CHECK_TARGET,
    }
    if "PATH" in os.environ:
        env["PATH"] = os.environ["PATH"]
    return env


def _parse_verdict(stdout: bytes) -> dict[str, Any] | None:
    try:
        verdict = json.loads(stdout)
    except ValueError:
        return None
    if not (
        isinstance(verdict, dict)
        and isinstance(verdict.get("ok"), bool)
        and isinstance(verdict.get("pages"), int)
        and isinstance(verdict.get("text"), str)
        and isinstance(verdict.get("detail"), str)
    ):
        return None
    problem = verdict.get("problem")
    if verdict["ok"] != (problem is None) or not (problem is None or isinstance(problem, str)):
        return None
    if not (verdict.get("subject") is None or isinstance(verdict.get("subject"), str)):
        return None
    signatures = _clean_signatures(verdict.get("signatures", []))
    pages = verdict.get("scan_pages")
    scan_pages = None if pages is None else _clean_scan_pages(pages)
    if signatures is None or (pages is not None and scan_pages is None):
        return None
    return {**verdict, "signatures": signatures, "scan_pages": scan_pages}


# The child read a hostile file: what it says is checked for shape, and its words for length.
_MODIFICATIONS = ("none", "signing", "form_filling", "changed")
_MAX_PNG = 300 * 1024  # base64 of the child's 200 KB crops


def _clean_signatures(raw: Any) -> list[dict[str, Any]] | None:
    if not isinstance(raw, list) or len(raw) > 10:
        return None
    cleaned = []
    for entry in raw:
        if not isinstance(entry, dict):
            return None
        name, signed_at, detail = entry.get("name"), entry.get("signed_at"), entry.get("detail")
        flags = [entry.get(key) for key in ("intact", "covers_whole", "trusted")]
        if not (
            all(isinstance(flag, bool) for flag in flags)
            and (name is None or isinstance(name, str))
            and (signed_at is None or isinstance(signed_at, str))
            and isinstance(detail, str)
            and entry.get("modification") in _MODIFICATIONS
        ):
            return None
        cleaned.append(
            {
                "field": str(entry.get("field") or "")[:100],
                "name": name[:200] if name else None,
                "intact": flags[0],
                "covers_whole": flags[1],
                "trusted": flags[2],
                "modification": entry["modification"],
                "signed_at": signed_at[:40] if signed_at else None,
                "detail": detail[:500],
            }
        )
    return cleaned


def _clean_scan_pages(raw: Any) -> list[dict[str, Any]] | None:
    if not isinstance(raw, list) or len(raw) > 100:
        return None
    pages = []
    for page in raw:
        if not isinstance(page, dict) or not isinstance(page.get("page"), int):
            return None
        payloads = page.get("payloads")
        boxes = page.get("boxes")
        if not isinstance(payloads, list) or not isinstance(boxes, list):
            return None
        pages.append(
            {
                "page": page["page"],
                "payloads": [p[:200] for p in payloads[:8] if isinstance(p, str)],
                "boxes": [box for box in map(_clean_box, boxes[:4]) if box is not None],
            }
        )
    return pages


def _clean_box(box: Any) -> dict[str, Any] | None:
    if not isinstance(box, dict):
        return None
    ink, png = box.get("ink"), box.get("png")
    if isinstance(ink, bool) or not isinstance(ink, (int, float)):
        return None  # a share of dark pixels, 0 to 1, as the child measured it
    if not isinstance(png, str) or len(png) > _MAX_PNG:
        return None
    try:
        image = base64.b64decode(png, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not image.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    return {
        "field": str(box.get("field") or "")[:100],
        "ink": round(ink, 4),
        "empty": bool(box.get("empty")),
        "png": png,
    }


# --- Messages ----------------------------------------------------------------------------


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n:,} bytes"


def _refuse_size(size: int | None, max_bytes: int) -> NoReturn:
    limit = _size(max_bytes)
    if size is None:
        message = f"The file is larger than {limit}, the limit."
    elif _size(size) == limit:  # "10 MB; the limit is 10 MB" would not help
        message = f"The file is {size:,} bytes; the limit is {limit} ({max_bytes:,} bytes)."
    else:
        message = f"The file is {_size(size)}; the limit is {limit}."
    refuse(
        "too_large",
        f"{message} Upload the signed template alone; if it is a scan, scan it at a lower "
        "resolution.",
    )


def _not_pdf_message(data: bytes) -> str:
    what = _looks_like(data)
    if b"%PDF-" in data[:1024]:  # a polyglot, or a PDF behind some other header
        return (
            f"This is not a PDF: it starts like {what}, with a PDF after it. Save or print the "
            "signed template to a new PDF and upload that."
        )
    return (
        f"This is not a PDF: it starts like {what}. Upload the signed template as a PDF file "
        "(renaming a file to .pdf does not convert it)."
    )


def _looks_like(data: bytes) -> str:
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return what
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for magic, what in _MARKUP:
        if start.startswith(magic):
            return what
    sample = data[:512].decode("utf-8", errors="replace").lstrip("\ufeff")
    unreadable = sum(1 for ch in sample if not (ch.isprintable() or ch in "\r\n\t"))
    if unreadable + sample.count("\ufffd") <= 2:  # a cut multi-byte character at the end
        return "a text file"
    return "a binary file of an unknown type"


def _problem_message(verdict: dict[str, Any]) -> str:
    problem = verdict["problem"]
    if problem == "not_pdf":
        if verdict["detail"] == pdfcheck.INCOMPLETE:
            return (
                "The PDF is incomplete: it ends before its end-of-file marker, so the upload "
                "or the download was probably cut off. Upload the complete file."
            )
        if verdict["detail"] == pdfcheck.NO_PAGES:
            return "The PDF has no pages; upload the signed template."
        return (
            "The file is named like a PDF but is damaged and cannot be read. Open it, print "
            "or save it to a new PDF, and upload that."
        )
    if problem == "too_many_pages":
        return (
            f"The PDF has {verdict['pages']:,} pages; the limit is {pdfcheck.MAX_PAGES}. Upload "
            "only the signed template."
        )
    subject = _subject(verdict)
    if problem == "action":
        what = f" ({subject})" if subject else ""
        return (
            f"The PDF contains an action the signed template does not need{what}: only web "
            "links (http, https, mailto) and links within the document are allowed. Print it "
            "to a new PDF and upload that."
        )
    if problem == "image_too_large":
        what = f" of {subject} pixels" if subject else " with too many pixels"
        return (
            f"The PDF contains an image{what}; the limit is "
            f"{pdfcheck.MAX_IMAGE_PIXELS // 1_000_000} megapixels and "
            f"{pdfcheck.MAX_IMAGE_SIDE:,} pixels a side. If it is a scan, scan it again at "
            "300 dpi and upload that."
        )
    return _PROBLEM_MESSAGES.get(
        problem, "The PDF cannot be accepted; print it to a new PDF and upload that."
    )


def _subject(verdict: dict[str, Any]) -> str | None:
    """What pdfcheck found (an action and what it does, an image's size), if it reads as one
    of its own phrases: the child parsed a hostile file, so its words are checked too."""
    subject = verdict.get("subject")
    if isinstance(subject, str) and _SUBJECT.fullmatch(subject):
        return subject
    return None


# --- Content -----------------------------------------------------------------------------


def _squash(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def _require_voucher(text: str, voucher_code: str, template_id: str) -> None:
    if _squash(voucher_code) in _squash(text):
        return
    if not text.strip():
        refuse(
            "no_text",
            f"The PDF has no readable text (it looks like a scan or an image), so voucher "
            f"{voucher_code} and template ID {template_id} cannot be found in it. Sign the "
            "downloaded template electronically, or fill it in and sign it as a PDF, rather "
            "than scanning a printout.",
        )
    for match in _CODE_PATTERN.finditer(text):
        try:
            other = normalise_code(match.group(0))
        except MalformedCode:
            continue  # looks like a code, but its check character says it is not one
        refuse(
            "wrong_voucher",
            f"This document carries voucher {other}, not {voucher_code}; download this "
            "voucher's template and have it signed.",
        )
    refuse(
        "missing_voucher",
        f"This document does not carry voucher {voucher_code}; download this voucher's "
        "template and have it signed.",
    )


def _require_template(text: str, template_id: str) -> None:
    wanted = _TEMPLATE_PATTERN.fullmatch(template_id)
    if wanted is None:
        raise ValueError(f"Not a template ID: {template_id!r}")
    kind, version = wanted.group(1).upper(), wanted.group(2)
    found = [(m.group(1).upper(), m.group(2)) for m in _TEMPLATE_PATTERN.finditer(text)]
    if (kind, version) in found:
        return
    other_kind = next((k for k, _v in found if k != kind), None)
    if other_kind:
        refuse(
            "wrong_template",
            f"This is the program {other_kind} template, not the {kind} template (template "
            f"ID {template_id} not found); upload the signed {kind}.",
        )
    old = next((v for k, v in found if k == kind), None)
    if old:
        refuse(
            "wrong_template",
            f"This is version {old} of the {kind} template; the current one is {template_id}. "
            "Download the current template for this voucher and have it signed.",
        )
    refuse(
        "wrong_template",
        f"This is not the program {kind} template (template ID {template_id} not found); "
        f"download the {kind} template for this voucher and have it signed.",
    )
