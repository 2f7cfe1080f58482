"""A small HTTP load generator, run as its own process (`python -m bench.load CONFIG`), so
its CPU is not the server's. Threads keep gunicorn's workers busy; the endpoints take turns
in rounds, so a busy machine slows each alike. Prints one JSON line: requests per second
per endpoint (the median over rounds) and the status codes seen."""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from collections import Counter
from typing import Any


def _hammer(
    host: str, port: int, path: str, headers: dict[str, str], until: float, out: Counter[int]
) -> None:
    seen: Counter[int] = Counter()
    while time.perf_counter() < until:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            seen[response.status] += 1
        except OSError:
            seen[0] += 1
        finally:
            conn.close()
    out.update(seen)


def run(config: dict[str, Any]) -> dict[str, Any]:
    host, port = config["host"], int(config["port"])
    threads, seconds, rounds = config["threads"], config["seconds"], config["rounds"]
    results: dict[str, list[float]] = {name: [] for name in config["endpoints"]}
    statuses: dict[str, Counter[int]] = {name: Counter() for name in config["endpoints"]}
    names = list(config["endpoints"])
    for r in range(rounds + 1):  # round 0 warms the workers and is not counted
        for name in names if r % 2 else list(reversed(names)):
            endpoint = config["endpoints"][name]
            counts: Counter[int] = Counter()
            until = time.perf_counter() + (seconds if r else 1.0)
            pool = [
                threading.Thread(
                    target=_hammer,
                    args=(host, port, endpoint["path"], endpoint.get("headers", {}), until, counts),
                )
                for _ in range(threads)
            ]
            start = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            elapsed = time.perf_counter() - start
            if r:
                results[name].append(counts[200] / elapsed)
                statuses[name].update(counts)
    return {
        name: {
            "rps": round(statistics.median(values), 1),
            "rounds": [round(v, 1) for v in values],
            "statuses": {str(k): v for k, v in statuses[name].items()},
        }
        for name, values in results.items()
    }


if __name__ == "__main__":
    print("BENCH-RESULT " + json.dumps(run(json.loads(sys.argv[1]))), flush=True)
