from __future__ import annotations

from django import forms
from django_countries import countries

from core.choices import Category, Segment

MAX_LICENCES = 2_147_483_647  # the column's range: more is a form error, not a 500


class CustomerForm(forms.Form):
    """A customer not yet in the portal, as a field rep adds it (R-ELIG-8): the fields of
    `POST /api/v1/customers/`."""

    tpid = forms.CharField(label="TPID", max_length=32)
    name = forms.CharField(label="Organisation name", max_length=200)
    country = forms.ChoiceField(choices=[("", "Choose a country…"), *countries])
    category = forms.ChoiceField(choices=Category.choices)
    segment = forms.ChoiceField(choices=Segment.choices)
    e3_licenses = forms.IntegerField(
        label="Prior M365 E3 licences",
        min_value=0,
        max_value=MAX_LICENCES,
        initial=0,
        help_text="Owned before the promotional period (R-ELIG-3).",
    )
    public_institution = forms.BooleanField(
        required=False,
        label="A public institution (education customers only: the public-sector scheme)",
    )
    company = forms.CharField(
        required=False,
        max_length=100,
        label="Ultimate parent key (optional)",
        help_text="Shared with affiliated organisations (R-VOU-7).",
    )
