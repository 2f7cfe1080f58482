"""Real processes for the fault and load tests, all on loopback: a private PostgreSQL
cluster, a private Redis, gunicorn and Celery workers.

The shared services (PostgreSQL on 5432, Redis on 6379) are never stopped: a fault is
injected into a private instance started here. Every wait is bounded, and every process
and folder is removed in `finally`, also when the test fails."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _pgbin() -> Path:
    """PGBIN, else the newest Debian PostgreSQL install (as .ci/run picks its cluster)."""
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PGBIN = _pgbin()
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, seconds: float, interval: float = 0.2) -> bool:
    """Polls `condition` until it holds or `seconds` have passed; the last answer counts."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, for assertion messages."""
    if not path.exists():
        return f"({path} is missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivatePostgres:
    """A throw-away cluster: trust auth, fsync off, its own port and socket folder."""

    def __init__(self, *, folder: Path, port: int) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = port

    def url(self, name: str = "portal") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        command = [str(PGBIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w"]
        command += ["-t", str(int(timeout)), "-o", options, *args]
        subprocess.run(_as_postgres(command), check=True, timeout=timeout + 10, capture_output=True)

    def init(self) -> None:
        command = [str(PGBIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        command += ["-E", "UTF8", "--no-locale"]
        subprocess.run(_as_postgres(command), check=True, timeout=120, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """A fast restart: open sessions are terminated, committed data stays."""
        self._pg_ctl("-m", "fast", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "stop")

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        command = [str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        command += ["-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
        return subprocess.run(
            command, check=True, timeout=60, capture_output=True, text=True
        ).stdout.strip()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    server = PrivatePostgres(folder=folder, port=free_port())
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, user="postgres")
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


class PrivateRedis:
    """A redis-server without persistence: a restart loses every queued message."""

    def __init__(self, *, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.log = folder / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        command += ["--logfile", str(self.log)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        if not wait_until(lambda: port_open(self.port), seconds=20):
            raise TimeoutError(f"redis-server did not start:\n{tail(self.log)}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    folder = Path(tempfile.mkdtemp(prefix="portal-redis-"))
    server = PrivateRedis(folder=folder, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def portal_env(
    *, database_url: str, folder: Path, redis_url: str = "", **extra: str
) -> dict[str, str]:
    """The environment of the portal's processes as deployed (production settings), with
    mail written to `folder/mail` and uploads kept in `folder/private`."""
    for sub in ("mail", "private", "media", "broker/queue", "broker/processed", "broker/control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "PYTEST", "EMAIL_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "fault-and-load-tests-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_DIR": str(folder / "broker"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        "PRIVATE_MEDIA_ROOT": str(folder / "private"),
        "MEDIA_ROOT": str(folder / "media"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """`manage.py ARGS` in the given environment; its output, or an error with it."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def run_json(env: dict[str, str], code: str, *, timeout: float = 180) -> Any:
    """Runs `code` with Django set up in `env`; `code` prints one JSON document."""
    script = "import django, json\ndjango.setup()\n" + code
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"script failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def process(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[Any]:
    """A child process in its own process group (gunicorn's workers and their PDF check
    subprocesses go with it), output to `log`; stopped with SIGTERM, then SIGKILL."""
    with log.open("ab") as out:
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield child
    finally:
        stop_group(child)


def stop_group(child: subprocess.Popen[bytes], *, seconds: float = 20) -> None:
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # stragglers of the group
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, log: Path, workers: int = 2) -> Iterator[str]:
    """gunicorn as deployed (sync workers), on a free port; yields its base URL once
    /healthz answers (which needs the database)."""
    port = free_port()
    command = [PYTHON, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--timeout", "60", "--graceful-timeout", "5", "--backlog", "256"]
    with process(command, env=env, log=log) as child:
        base_url = f"http://127.0.0.1:{port}"
        if not wait_until(lambda: child.poll() is None and healthy(base_url), seconds=60):
            raise TimeoutError(f"gunicorn did not become healthy:\n{tail(log)}")
        yield base_url


@contextlib.contextmanager
def celery_worker(env: dict[str, str], *, log: Path, name: str = "w1") -> Iterator[Any]:
    """One Celery worker (solo pool, as the compose file's worker); yields once ready."""
    command = [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]
    with process(command, env=env, log=log) as child:
        if not wait_until(lambda: "ready." in log.read_text(errors="replace"), seconds=60):
            raise TimeoutError(f"celery worker did not start:\n{tail(log)}")
        yield child


def celery_call(env: dict[str, str], task: str, **kwargs: Any) -> None:
    """Publishes `task` as beat does (`celery call`)."""
    command = [PYTHON, "-m", "celery", "-A", "config", "call", task]
    command += ["--kwargs", json.dumps(kwargs)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=60, capture_output=True)
