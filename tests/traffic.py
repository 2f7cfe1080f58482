"""HTTP traffic for the fault and load tests: signed PDFs, API calls that record their
status and latency, and the summary (counts, throughput, percentiles)."""

from __future__ import annotations

import io
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

CONNECTION_ERROR = 0  # the status recorded when no HTTP answer came back
TIMEOUT = 30


def signed_pdf(*, code: str, kind: str) -> bytes:
    """A one-page PDF whose text carries the voucher code and the template ID, signed by the
    customer and the partner (two PAdES signatures), as a signed template is (R-DOC-1);
    built without WeasyPrint, in about 60 ms."""
    from tests.signing import sign_both

    template = "FTDV-SOW-v1" if kind == "initial" else "FTDV-POE-v1"
    return sign_both(text_pdf(f"Template {template} Voucher {code}"), new_fields=True)


def text_pdf(line: str) -> bytes:
    """A one-page A4 PDF with one line of Helvetica text."""
    content = f"BT /F1 11 Tf 50 780 Td ({line}) Tj ET".encode()
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Call:
    label: str
    status: int  # CONNECTION_ERROR when no answer came back
    seconds: float
    started: float  # time.monotonic() at the start
    detail: str = ""


@dataclass
class Recorder:
    """Every call made, from every thread; `pause()` holds new calls back until `resume()`."""

    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0

    def __post_init__(self) -> None:
        self.gate.set()

    def begin(self) -> None:
        self.gate.wait(timeout=120)
        with self.lock:
            self.in_flight += 1

    def add(self, call: Call) -> None:
        with self.lock:
            self.in_flight -= 1
            self.calls.append(call)

    def snapshot(self) -> list[Call]:
        with self.lock:
            return list(self.calls)

    def pause(self, *, seconds: float = 60) -> bool:
        """Stops new calls and waits for those in flight; False if they did not finish."""
        self.gate.clear()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return True
            time.sleep(0.05)
        return False

    def resume(self) -> None:
        self.gate.set()


class Client:
    """One user's HTTP session (token auth) that records each call."""

    def __init__(self, *, base_url: str, token: str, recorder: Recorder) -> None:
        self.base_url = base_url
        self.recorder = recorder
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(
        self, method: str, path: str, *, label: str, **kwargs: Any
    ) -> requests.Response | None:
        self.recorder.begin()
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base_url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            self.recorder.add(
                Call(label, CONNECTION_ERROR, time.monotonic() - started, started, repr(exc))
            )
            return None
        detail = response.text[:300] if response.status_code >= 400 else ""
        self.recorder.add(
            Call(label, response.status_code, time.monotonic() - started, started, detail)
        )
        return response

    def submit(
        self, *, code: str, kind: str, day: date, sow_value: str | None = None
    ) -> requests.Response | None:
        """The partner uploads the signed SOW (`initial`) or POE (`final`)."""
        data = {
            "kind": kind,
            "customer_signer": "Casey Customer",
            "customer_signed_on": day.isoformat(),
            "partner_signer": "Pat Partner",
            "partner_signed_on": day.isoformat(),
        }
        if sow_value is not None:
            data["sow_value"] = sow_value
        files = {"document": ("signed.pdf", signed_pdf(code=code, kind=kind), "application/pdf")}
        return self.call(
            "POST",
            f"/api/v1/vouchers/{code}/requests/",
            label=f"submit_{kind}",
            data=data,
            files=files,
        )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_ms(values: list[float]) -> dict[str, float]:
    return {
        name: round(percentile(values, q) * 1000, 1)
        for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
    } | {"max": round(max(values, default=0.0) * 1000, 1)}


def summarise(calls: list[Call], *, seconds: float) -> dict[str, Any]:
    """Counts by endpoint and status, throughput and latency percentiles (milliseconds)."""
    by_label: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_label[call.label].append(call)
    statuses = Counter(_status_class(c.status) for c in calls)
    return {
        "seconds": round(seconds, 1),
        "requests": len(calls),
        "throughput_rps": round(len(calls) / seconds, 2) if seconds else 0.0,
        "status": dict(sorted(statuses.items())),
        "latency_ms": latency_ms([c.seconds for c in calls]),
        "endpoints": {
            label: {
                "requests": len(group),
                "status": dict(sorted(Counter(str(c.status) for c in group).items())),
                "latency_ms": latency_ms([c.seconds for c in group]),
            }
            for label, group in sorted(by_label.items())
        },
    }


def _status_class(status: int) -> str:
    if status == CONNECTION_ERROR:
        return "connection_error"
    if status == 409:
        return "409"
    return f"{status // 100}xx"


def write_summary(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")


def guarded(target: Callable[..., None], errors: list[BaseException]) -> Callable[..., None]:
    """`target` for a traffic thread: an exception it raises is kept in `errors` for the
    test to fail on (pytest would only warn about it), then the thread ends."""

    def run(*args: Any, **kwargs: Any) -> None:
        try:
            target(*args, **kwargs)
        except BaseException as exc:
            errors.append(exc)
            raise

    return run
