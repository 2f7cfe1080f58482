"""Page fuzzing: the HTML side of the portal as schemathesis covers the API.

For each demo login (and an anonymous visitor), the portal is crawled from its home page
the way a person clicks through it; every page found then gets hypothesis-generated query
strings, and every form on it (its real action and field names, GET or POST) generated
bodies, both drawn from HOSTILE: NUL and other control characters, huge and non-finite
numbers, NaN, over-long strings, markup, wrong types, arbitrary Unicode. The login form
and the bulk import (CSV and XLSX files built from the same values) are fuzzed too.

The one check: no answer is a server error. Each request runs in a savepoint that is
rolled back, so a generated write never changes what the next one sees. The number of
examples per page and per form is PAGE_FUZZ_EXAMPLES (default 8, CI's value); CI runs it
on PostgreSQL, where a NUL used to reach the database.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from tests.factories import demo_world_loaded

EXAMPLES = int(os.environ.get("PAGE_FUZZ_EXAMPLES", "8"))
MAX_PAGES = 80
LOGINS = ["pm", "rep", "qtm", "customer", "partner"]
SKIP_PREFIXES = ("/logout/", "/admin/", "/api/", "/static/", "/media/")
GENERIC_PARAMS = ["q", "page", "sort", "order", "status", "kind", "program", "partner", "about"]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "%00",
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1",
            "0",
            "9" * 40,
            "1" * 400,
            "12.345",
            "2024-02-30",
            "0000-00-00",
            "99999-12-31",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "x" * 5000,
            "",
            " ",
            "true",
            "[]",
            "{}",
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


# -- the crawl ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The links and forms of one page: (method, action, [field names])."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, list[str]]] = []
        self._form: tuple[str, str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = (a.get("method", "get").lower(), a.get("action", ""), [])
            self.forms.append(self._form)
        elif (
            tag in ("input", "select", "textarea", "button")
            and self._form
            and a.get("name")
            and a.get("type") != "file"
            and a["name"] not in self._form[2]
        ):
            self._form[2].append(a["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _local(base: str, href: str) -> str | None:
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path.endswith((".pdf", ".csv", ".xlsx")):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client) -> dict[str, list[tuple[str, str, list[str]]]]:
    """Page URL -> its forms, breadth first from the home page, MAX_PAGES at most."""
    seen: dict[str, list[tuple[str, str, list[str]]]] = {}
    queue = ["/", "/login/"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            seen[url] = []
            continue
        page = _Page()
        page.feed(response.content.decode("utf-8", "replace"))
        seen[url] = page.forms
        for href in page.links:
            target = _local(url, href)
            if target and target not in seen and target not in queue:
                queue.append(target)
    return seen


# -- the world -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo data set, loaded once for the module and rolled back at its end."""
    with demo_world_loaded(django_db_blocker):
        yield


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    cache.clear()  # rate limits and lockouts from other examples answer 429, not a pass
    yield
    cache.clear()


def _client(login: str | None, django_db_blocker: Any) -> Client:
    client = Client(raise_request_exception=False)
    if login:
        with django_db_blocker.unblock():
            client.force_login(User.objects.get(username=login))
    return client


def _send(client: Client, method: str, url: str, data: dict[str, str]) -> int:
    with transaction.atomic():
        if method == "post":
            response = client.post(url, data)
        else:
            response = client.get(url + ("&" if "?" in url else "?") + urlencode(data))
        transaction.set_rollback(True)
    cache.clear()
    return response.status_code


def _fuzz_page(client: Client, url: str, forms: list[tuple[str, str, list[str]]]) -> None:
    names = sorted({n for _m, _a, fields in forms for n in fields} | set(GENERIC_PARAMS))

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(names), HOSTILE, max_size=4))
    def query(params: dict[str, str]) -> None:
        status = _send(client, "get", url.split("?")[0], params)
        assert status < 500, (url, params, status)

    query()
    base = url.split("?")[0]
    for method, action, fields in forms:
        target = (_local(url, action) or base) if action else base
        if fields:
            _fuzz_form(client, method, target, fields)


def _fuzz_form(client: Client, method: str, target: str, fields: list[str]) -> None:
    """Bodies for one form: any subset of its fields, each a HOSTILE value."""

    @FUZZ
    @given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(fields, HOSTILE)))
    def form(values: dict[str, str]) -> None:
        status = _send(client, method, target, values)
        assert status < 500, (target, method, values, status)

    form()


@pytest.mark.parametrize("login", [None, *LOGINS])
def test_pages_forms_and_query_strings_never_answer_500(
    login: str | None, demo_world: None, db: None, django_db_blocker: Any, fresh_cache: None
) -> None:
    client = _client(login, django_db_blocker)
    with django_db_blocker.unblock():
        pages = crawl(client)
        assert len(pages) > (1 if login is None else 3), pages
        print(f"{login}: {len(pages)} pages, {sum(len(f) for f in pages.values())} forms")
        for url, forms in pages.items():
            _fuzz_page(client, url, forms)


def test_login_form_never_answers_500(
    demo_world: None, db: None, django_db_blocker: Any, fresh_cache: None
) -> None:
    client = Client(raise_request_exception=False)

    @FUZZ
    @given(username=HOSTILE, password=HOSTILE)
    def login(username: str, password: str) -> None:
        with django_db_blocker.unblock():
            status = _send(client, "post", "/login/", {"username": username, "password": password})
        assert status < 500, (username, password, status)

    login()


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:  # an .xlsx cannot hold C0 controls: openpyxl refuses to write them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell)[:32000] for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["customer_tpid", "offer", "workloads", "deal_value", "expected_close_date", "notes"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_files_never_answer_500(
    kind: str, demo_world: None, db: None, django_db_blocker: Any, fresh_cache: None
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client("rep", django_db_blocker)

    @FUZZ
    @given(rows=st.lists(st.lists(HOSTILE, min_size=1, max_size=7), min_size=1, max_size=5))
    def upload(rows: list[list[str]]) -> None:
        if kind == "csv":
            text = "\n".join(",".join(c.replace(",", " ") for c in [*r]) for r in [HEADER, *rows])
            body = text.encode("utf-8", "surrogatepass")
        else:
            body = _xlsx([HEADER, *rows])
        upload = SimpleUploadedFile(f"nominations.{kind}", body)
        with django_db_blocker.unblock(), transaction.atomic():
            response = client.post("/imports/", {"program": "DEMO-FY27", "file": upload})
            transaction.set_rollback(True)
        assert response.status_code < 500, (rows, response.status_code)

    upload()
