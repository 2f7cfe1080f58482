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
4. the voucher code in the extracted text (`wrong_voucher`, `missing_voucher`, `no_text`);
5. the template ID in the extracted text (`wrong_template`).

Every refusal is an `ApplicationError` with rule R-DOC-1, a problem code and a message that
tells the partner what is wrong and what to do, also under `fields["document"]`.
"""

from __future__ import annotations

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
from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings

from core.errors import ApplicationError
from redemptions import pdfcheck, sandbox
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
    """An upload that passed every check; `content` is exactly the uploaded bytes."""

    content: bytes
    sha256: str
    size: int
    pages: int


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

    verdict = run_pdfcheck(data)
    if not verdict["ok"]:
        known = verdict["problem"] in pdfcheck.DETAILS
        refuse(verdict["problem"] if known else "too_complex", _problem_message(verdict))
    text: str = verdict["text"]
    _require_voucher(text, voucher_code, template_id)
    _require_template(text, template_id)
    return CheckedDocument(
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        pages=verdict["pages"],
    )


# --- The subprocess ----------------------------------------------------------------------


def run_pdfcheck(data: bytes) -> dict[str, Any]:
    """The verdict of `CHECK_TARGET` on `data`, in a fresh process with resource limits
    (a child of `redemptions.sandbox`).

    A timeout, a crash (killed at the memory or CPU limit) or output that is not a verdict
    all mean the file was too much to read: `too_complex`."""
    ended = _sandbox().run(data)
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

    def run(self, data: bytes) -> Ended:
        """How the check of `data` ended. A server that died since the last check is
        started again once; one that fails twice counts as a check out of time."""
        with self._lock:
            for _attempt in (1, 2):
                try:
                    return self._ask(self._ready(), data)
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

    def _ask(self, process: subprocess.Popen[bytes], data: bytes) -> Ended:
        assert process.stdin is not None
        process.stdin.write(sandbox.HEADER.pack(len(data)) + data)
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
    """No secrets from the web process's environment reach the parser of hostile files."""
    env = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
        # Each check's child applies these to itself before reading the upload.
        "PDFCHECK_MEMORY_BYTES": str(CHECK_MEMORY_BYTES),
        "PDFCHECK_CPU_SECONDS": str(CHECK_CPU_SECONDS),
        "PDFCHECK_WALL_SECONDS": str(CHECK_TIMEOUT_SECONDS),
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
    return verdict


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
