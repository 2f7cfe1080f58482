"""Stand-ins for the upload check (`documents.CHECK_TARGET = "tests.sandbox_fakes:<name>"`),
run by `redemptions.sandbox` in a forked child exactly as `redemptions.pdfcheck:check` is:
after the child has limited itself, with the scrubbed environment. Each passes the corpus
SOW (its text names the corpus voucher and template) only when its condition holds, or
misbehaves as a broken check would."""

from __future__ import annotations

import os
import resource
import time
from typing import Any

CORPUS_CODE = "7K3M-Q9PX-H4RT-WB2C"
TEXT = f"Voucher {CORPUS_CODE} Template FTDV-SOW-v1"


def _signature(name: str) -> dict[str, Any]:
    return {
        "field": f"{name.split()[-1].lower()}_signature",
        "name": name,
        "intact": True,
        "covers_whole": True,
        "trusted": False,
        "modification": "form_filling",
        "signed_at": "2024-03-01T10:00:00+00:00",
        "detail": f"Signed by {name}.",
    }


def _verdict(ok: bool) -> dict[str, Any]:
    """What pdfcheck says of the corpus SOW signed by both parties, or, when not `ok`, of a
    file without text (which has no scan pages either: refused)."""
    return {
        "ok": True,
        "problem": None,
        "detail": "",
        "pages": 2,
        "text": TEXT if ok else "",
        "signatures": [_signature("Casey Customer"), _signature("Pat Partner")] if ok else [],
        "scan_pages": [] if not ok else None,
    }


def crashes(data: bytes, **options: Any) -> Any:
    os.abort()


def raises(data: bytes, **options: Any) -> Any:
    raise RuntimeError("the parser fell over")


def writes_no_json(data: bytes, **options: Any) -> Any:
    return object()  # not JSON: the child exits with a failure status


def half_a_verdict(data: bytes, **options: Any) -> Any:
    return {"ok": True}


def a_list(data: bytes, **options: Any) -> Any:
    return []


def sleeps(data: bytes, **options: Any) -> Any:
    time.sleep(30)
    return _verdict(True)


def limited(data: bytes, **options: Any) -> Any:
    return _verdict(
        resource.getrlimit(resource.RLIMIT_AS) == (768 * 2**20, 768 * 2**20)
        and resource.getrlimit(resource.RLIMIT_CPU) == (10, 10)
        and resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
    )


def grabs_memory(data: bytes, **options: Any) -> Any:
    return _verdict(bytearray(1024**3) is not None)  # over 768 MB of address space


def spins(data: bytes, **options: Any) -> Any:
    while True:  # killed at the CPU limit (SIGXCPU), or at the wall clock
        pass


def sees_no_secrets(data: bytes, **options: Any) -> Any:
    return _verdict("SECRET_KEY" not in os.environ and "DATABASE_URL" not in os.environ)


_USED = False


def own_process(data: bytes, **options: Any) -> Any:
    """Passes only in a process no check ran in before: a forked child's write to this
    module's state dies with it, so it is unset for every upload if each gets a fresh one."""
    global _USED
    fresh = not _USED
    _USED = True
    return _verdict(fresh)
