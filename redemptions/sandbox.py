"""A fork server for the upload check: every upload is still read in a fresh process of
its own, under memory, CPU and wall-clock limits, without the web process's secrets; only
the interpreter start-up and the imports are done once.

    python -m redemptions.sandbox

is started by `redemptions.documents` (one per process that checks uploads) with a scrubbed
environment. It imports the check (`PDFCHECK_TARGET`, `module:function`, by default
`redemptions.pdfcheck:check_request`) and what signatures and scans need (pyHanko, pdfium,
zxing). Then, for each request on stdin, it forks a child that limits itself
(`pdfcheck.limit_resources`: address space, CPU seconds, no core dumps) before it touches
a byte of the upload, runs the check and writes its JSON verdict to a pipe. The server
kills a child still running after `PDFCHECK_WALL_MS` and answers with how the child
ended, so a bomb or a crash costs one child, never the server or the web process. Starting
an interpreter and importing pypdf per upload cost about 100 ms, more than the check of a
usual template; importing pyHanko costs 300-400 ms more.

Protocol (binary, on stdin and stdout): the server writes `READY\\n` once it has imported
the check. A request is two 8-byte big-endian lengths, a JSON object of keyword options for
the check (the trust roots' path, the signature boxes of a scan) and the PDF bytes. The
answer is one JSON line, `{"exit": int | null, "signal": int | null, "timed_out": bool,
"length": n}`, and the child's `n` output bytes. End of input (the parent went away) stops
the server.

Standard library only, no Django: the check it runs reads hostile bytes.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO

READY = b"READY\n"
HEADER = struct.Struct(">QQ")
MAX_OPTIONS = 1024 * 1024
MAX_REQUEST = 64 * 1024 * 1024
MAX_ANSWER = 32 * 1024 * 1024
DEFAULT_TARGET = "redemptions.pdfcheck:check_request"
CHILD_FAILED = 70  # the check raised, or its result was not JSON


def load_target(spec: str) -> Callable[[bytes], Any]:
    module, _, name = spec.partition(":")
    target = getattr(importlib.import_module(module), name)
    if not callable(target):
        raise TypeError(f"{spec} is not callable")
    return target  # type: ignore[no-any-return]


def request(data: bytes, *, options: dict[str, Any]) -> bytes:
    """One request for the server: `options` are passed to the check as keywords."""
    encoded = json.dumps(options).encode()
    return HEADER.pack(len(encoded), len(data)) + encoded + data


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """`size` bytes, or None at end of input."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = stream.read(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _child(data: bytes, options: dict[str, Any], target: Callable[..., Any], write_fd: int) -> None:
    """In the forked child: limits first, then the check; never returns."""
    status = 0
    try:
        from redemptions.pdfcheck import limit_resources, quiet  # imported by serve()

        limit_resources()
        quiet()
        output = json.dumps(target(data, **options)).encode()
        view = memoryview(output)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
    except BaseException:  # any failure is an exit status for the parent
        status = CHILD_FAILED
    finally:
        os._exit(status)


def run_one(
    data: bytes, options: dict[str, Any], target: Callable[..., Any], *, wall_seconds: float
) -> bytes:
    """Forks a child for `data`; the answer line and the child's output."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit
        os.close(read_fd)
        _child(data, options, target, write_fd)
    os.close(write_fd)
    output = bytearray()
    timed_out = False
    deadline = time.monotonic() + wall_seconds
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            if len(output) + len(chunk) > MAX_ANSWER:
                timed_out = True  # a runaway writer is stopped like a runaway reader
                break
            output += chunk
    finally:
        os.close(read_fd)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    answer = {
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out,
        "length": 0 if timed_out else len(output),
    }
    return json.dumps(answer).encode() + b"\n" + (b"" if timed_out else bytes(output))


def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    importlib.import_module("redemptions.pdfcheck")  # pypdf and the limits, once
    spec = os.environ.get("PDFCHECK_TARGET") or DEFAULT_TARGET
    if spec == DEFAULT_TARGET:
        importlib.import_module("redemptions.pdftrust").preload()  # pyHanko, pdfium, zxing
    target = load_target(spec)
    wall_seconds = int(os.environ.get("PDFCHECK_WALL_MS") or 15_000) / 1000
    stdout.write(READY)
    stdout.flush()
    while True:
        header = read_exactly(stdin, HEADER.size)
        if header is None:
            return 0
        options_size, size = HEADER.unpack(header)
        if options_size > MAX_OPTIONS or size > MAX_REQUEST:
            return 2  # the parent never sends this much: a broken stream, start afresh
        encoded = read_exactly(stdin, options_size)
        data = read_exactly(stdin, size)
        if encoded is None or data is None:
            return 0
        options = json.loads(encoded)
        stdout.write(run_one(data, options, target, wall_seconds=wall_seconds))
        stdout.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's Ctrl-C stops it by EOF
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
