from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone

from accounts.models import User
from core.choices import LicensingChannel
from core.forms import MoneyFormField
from customers.models import Customer
from customers.selectors import customers_visible_to
from nominations.models import AgreementType, MigrationSource, Nomination
from programs.models import Program


def open_programs() -> Any:
    """Programs still taking purchases, newest first."""
    return Program.objects.filter(is_active=True, window_end__gte=timezone.localdate()).order_by(
        "-window_start"
    )


class CustomerChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A customer a field rep added and no program manager verified yet says so (R-ELIG-8)."""

    def label_from_instance(self, obj: Any) -> str:
        label = str(obj)
        return label if obj.is_verified else f"{label} · unverified"


class NominationForm(forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), to_field_name="code", empty_label=None
    )
    customer = CustomerChoiceField(
        queryset=Customer.objects.none(), to_field_name="tpid", empty_label="Choose a customer…"
    )
    offer = forms.ChoiceField(widget=forms.RadioSelect)
    workloads = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    deal_value = MoneyFormField(
        label="Expected deal value (USD)",
        min_value=Decimal("0.01"),
    )
    expected_close_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    agreement_type = forms.ChoiceField(choices=AgreementType.choices, initial="new")
    licensing_channel = forms.ChoiceField(
        choices=LicensingChannel.choices,
        initial=LicensingChannel.EA,
        required=False,
        label="Licensing channel",
        help_text="CSP deals are not eligible (R-ELIG-2).",
    )
    upsell_expansion = forms.BooleanField(
        required=False, label="The purchase drives upsell or expansion (renewals and mid-term)"
    )
    migration_sources = forms.MultipleChoiceField(
        choices=MigrationSource.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Migration from",
    )
    ecif_funded = forms.BooleanField(required=False, label="Deployment is ECIF-funded")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(
        self, *args: Any, user: User, nomination: Nomination | None = None, **kwargs: Any
    ) -> None:
        """With `nomination`, the form edits it: its program and customer are shown but
        cannot be changed (R-ELIG-9: withdraw it and nominate again instead)."""
        if nomination is not None:
            kwargs["initial"] = {**nomination_initial(nomination), **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.nomination = nomination
        programs = open_programs()
        customers = customers_visible_to(user).order_by("name")
        if nomination is not None:
            programs = Program.objects.filter(pk=nomination.program_id)
            customers = customers.filter(pk=nomination.customer_id)
            self.fields["program"].disabled = True
            self.fields["customer"].disabled = True
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]
        program = self._selected_program(programs)
        offers = list(program.offers.order_by("code")) if program else []
        workloads = list(program.workloads.order_by("code")) if program else []
        self.fields["offer"].choices = [(o.code, f"{o.name} ({o.code})") for o in offers]  # type: ignore[attr-defined]
        self.fields["workloads"].choices = [(w.code, w.name) for w in workloads]  # type: ignore[attr-defined]

    def _selected_program(self, programs: Any) -> Program | None:
        if self.nomination is not None:
            return self.nomination.program
        code = self.data.get("program") if self.is_bound else None
        chosen = (programs.filter(code=code).first() if code else None) or programs.first()
        return cast("Program | None", chosen)

    def clean_licensing_channel(self) -> str:
        """Left out, the deal is an EA deal, as in the API (R-ELIG-2)."""
        return str(self.cleaned_data.get("licensing_channel") or LicensingChannel.EA)

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return {
            **data,
            "offer": data["offer"],
            "workloads": list(data["workloads"]),
            "migration_sources": list(data["migration_sources"]),
        }

    def changes(self) -> dict[str, Any]:
        """What `nomination_update` takes: every field but the program and the customer."""
        return {k: v for k, v in self.service_kwargs().items() if k not in ("program", "customer")}


def nomination_initial(nomination: Nomination) -> dict[str, Any]:
    return {
        "program": nomination.program.code,
        "customer": nomination.customer.tpid,
        "offer": nomination.offer.code,
        "workloads": list(nomination.workloads),
        "deal_value": nomination.deal_value,
        "expected_close_date": nomination.expected_close_date,
        "agreement_type": nomination.agreement_type,
        "licensing_channel": nomination.licensing_channel,
        "upsell_expansion": nomination.upsell_expansion,
        "migration_sources": list(nomination.migration_sources),
        "ecif_funded": nomination.ecif_funded,
        "notes": nomination.notes,
    }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing it?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CloseDealForm(forms.Form):
    closed_on = forms.DateField(
        label="Deal closed on", widget=forms.DateInput(attrs={"type": "date"})
    )
    purchase_amount = MoneyFormField(
        label="Qualifying purchase (USD)",
        min_value=Decimal("0.01"),
    )
    value = MoneyFormField(
        label="Voucher value (USD, optional: lowers the suggested value)",
        min_value=Decimal("0.01"),
        required=False,
    )
