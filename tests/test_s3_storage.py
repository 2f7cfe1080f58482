"""Documents go to S3 through django-storages when STORAGE_BACKEND=s3: one accepted upload
stored in a local S3 endpoint (moto server), byte for byte, under a server-chosen name."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from core.choices import Role
from redemptions.models import RequestDocument
from redemptions.services import request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from vouchers.services import voucher_claim

pytestmark = pytest.mark.django_db
BUCKET = "voucher-portal-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for var, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(var, value)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_accepted_document_is_stored_in_s3(s3_endpoint: str, settings: Any, fy24: Any) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "addressing_style": "path",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    with time_machine.travel(date(2024, 3, 1), tick=False):
        voucher = issue_voucher(
            fy24,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        partner = user_for_role(Role.PARTNER, partner=PartnerFactory())
        voucher_claim(code=voucher.code, user=partner)
        content = signed_template(voucher=voucher, kind="sow")
        request_submit(
            voucher_id=voucher.pk,
            user=partner,
            kind="initial",
            sow_value=Decimal("1000"),
            upload=SimpleUploadedFile("../../x.pdf", content),
            customer_signer="C",
            customer_signed_on=date(2024, 3, 1),
            partner_signer="P",
            partner_signed_on=date(2024, 3, 1),
        )
    document = RequestDocument.objects.get()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [document.file.name] and keys[0].startswith(f"requests/{voucher.pk}/")
    stored = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert stored == content and hashlib.sha256(stored).hexdigest() == document.sha256
