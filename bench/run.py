"""`make bench`: builds the benchmark databases, runs every measurement, prints the table
and writes bench/results.json. Exits 1 when a target is missed.

Databases (dropped and created on every run, never the portal's own):
- `portal_bench_1k` and `portal_bench`: `seed_bench --vouchers 1000` and `--vouchers
  100000`, the same data shape; pages are compared between them, the API, the PDF and the
  import run on the large one;
- `portal_bench_batch`: only the bench logins, then 100,000 vouchers due for a reminder
  and 1,000,000 due to expire, written set-based by `bench.seed.bench_due_vouchers`.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULTS = ROOT / "bench" / "results.json"
DATABASES = {"small": "portal_bench_1k", "large": "portal_bench", "batch": "portal_bench_batch"}
TARGETS: dict[str, tuple[str, float]] = {
    "queue_scaling": ("<=", 1.5),
    "partner_list_scaling": ("<=", 1.5),
    "dashboard_scaling": ("<=", 1.5),
    "api_ratio": (">=", 0.5),
    "expiry_vs_raw_sql": ("<=", 2),
    "reminders_vs_raw_insert": ("<=", 3),
    "import_vs_bulk_create": ("<=", 5),
    "pdf_vs_hello": ("<=", 3),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("make bench needs PostgreSQL: DATABASE_URL must be a postgres:// URL")
    return url


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate(url: str, name: str) -> None:
    assert name.startswith("portal_bench"), name  # never the portal's own databases
    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def env_for(url: str, name: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=with_db(url, name),
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="ERROR",
        PYTHONWARNINGS="ignore",
        **extra,
    )
    env.pop("REDIS_URL", None)  # the bench's Celery queue is a throw-away folder
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603 - our own interpreter and scripts


def measure(env: dict[str, str], name: str) -> dict[str, Any]:
    return _result(
        subprocess.run(  # noqa: S603 - our own interpreter and scripts
            [PY, "-m", "bench.measure", name],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    )


def _result(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH-RESULT "))
            return result
    raise RuntimeError(f"no result in: {stdout[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api(env: dict[str, str]) -> dict[str, Any]:
    """Gunicorn with 2 workers on the 100,000-voucher database, loaded from another
    process, the two endpoints taking turns."""
    setup = measure(env, "api_setup")
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(PY).parent)) or "gunicorn"
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
        [
            gunicorn,
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        config = {
            "host": "127.0.0.1",
            "port": port,
            "threads": 6,
            "seconds": 5,
            "rounds": 4,
            "endpoints": {
                "voucher": {
                    "path": f"/api/v1/vouchers/{setup['code']}/",
                    "headers": {"Authorization": f"Token {setup['token']}"},
                },
                "constant": {"path": "/bench/constant/"},
            },
        }
        out = _result(
            subprocess.run(  # noqa: S603 - our own interpreter and scripts
                [PY, "-m", "bench.load", json.dumps(config)],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, row in out.items():
        if set(row["statuses"]) != {"200"}:
            raise RuntimeError(f"{name}: unexpected answers {row['statuses']}")
    return {**out, "ratio": out["voucher"]["rps"] / out["constant"]["rps"]}


def machine(url: str) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    with psycopg.connect(with_db(url, "postgres")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": row[0] if row else "",
    }


def main() -> int:
    started = time.perf_counter()
    url = server_url()
    envs = {key: env_for(url, name) for key, name in DATABASES.items()}
    envs["large"]["BENCH_SMALL_DATABASE"] = DATABASES["small"]
    log("databases: " + ", ".join(DATABASES.values()))
    for key, name in DATABASES.items():
        recreate(url, name)
        manage(envs[key], "migrate", "--noinput", "-v0")
    seeds = {"small": "1000", "large": "100000", "batch": "0"}
    for key, count in seeds.items():
        log(f"seed_bench --vouchers {count} into {DATABASES[key]}")
        manage(envs[key], "seed_bench", "--vouchers", count)
    raw: dict[str, Any] = {}
    log("pages at 1,000 and 100,000 vouchers")
    raw["pages"] = measure(envs["large"], "pages")
    log("API under load (gunicorn, 2 workers)")
    raw["api"] = api(envs["large"])
    log("voucher PDF")
    raw["pdf"] = measure(envs["large"], "pdf")
    log("nomination import")
    raw["imports"] = measure(envs["large"], "imports")
    log("expiry reminders over 100,000 due vouchers")
    raw["reminders"] = measure(envs["batch"], "reminders")
    log("expiry over 1,000,000 due vouchers")
    raw["expiry"] = measure(envs["batch"], "expiry")
    pages = raw["pages"]
    ratios: dict[str, float] = {
        "queue_scaling": pages["queue"]["scaling"],
        "partner_list_scaling": pages["partner_list"]["scaling"],
        "dashboard_scaling": pages["dashboard"]["scaling"],
        "api_ratio": raw["api"]["ratio"],
        "expiry_vs_raw_sql": raw["expiry"]["ratio"],
        "reminders_vs_raw_insert": raw["reminders"]["ratio"],
        "import_vs_bulk_create": raw["imports"]["ratio"],
        "pdf_vs_hello": raw["pdf"]["ratio"],
    }
    rows = []
    failed = []
    for name, value in ratios.items():
        op, target = TARGETS[name]
        ok = value <= target if op == "<=" else value >= target
        rows.append({"ratio": name, "value": round(value, 3), "target": f"{op} {target}", "ok": ok})
        if not ok:
            failed.append(name)
    for name in ("queue", "partner_list", "dashboard"):
        equal = pages[name]["queries_1k"] == pages[name]["queries_100k"]
        if not equal:
            failed.append(f"{name}_queries")
    wall = time.perf_counter() - started
    result = {
        "ratios": {r["ratio"]: r["value"] for r in rows},
        "queries": {
            f"{name}_queries_{size}": pages[name][f"queries_{size}"]
            for name in ("queue", "partner_list", "dashboard")
            for size in ("1k", "100k")
        },
        "table": rows,
        "passed": not failed,
        "failed": failed,
        "details": raw,
        "machine": machine(url),
        "wall_seconds": round(wall),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    log(f"wrote {RESULTS.relative_to(ROOT)} in {wall / 60:.1f} min")
    return 0 if not failed else 1


def table(result: dict[str, Any]) -> str:
    lines = ["| ratio | value | target | |", "|---|---|---|---|"]
    for row in result["table"]:
        lines.append(
            f"| {row['ratio']} | {row['value']:.2f} | {row['target']} | "
            f"{'pass' if row['ok'] else 'FAIL'} |"
        )
    for name, value in result["queries"].items():
        lines.append(f"| {name} | {value} | equal at both sizes | |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
