from decimal import Decimal
from typing import Any

from django import forms

from core.forms import MoneyFormField
from redemptions.models import PaymentRequest

DATE = forms.DateInput(attrs={"type": "date"})


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=PaymentRequest.Kind.choices, widget=forms.HiddenInput)
    document = forms.FileField(
        label="Signed document (PDF)",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        help_text="The program template for this voucher, signed by the customer and by you: "
        "digitally, each in their signature field, or printed, signed in ink and scanned "
        "(every page, so its QR codes show).",
    )
    sow_value = MoneyFormField(
        label="SOW value (USD)",
        min_value=Decimal("0.01"),
        required=False,
    )
    customer_signer = forms.CharField(label="Signed for the customer by", max_length=120)
    customer_signed_on = forms.DateField(label="Customer signature date", widget=DATE)
    partner_signer = forms.CharField(label="Signed for the partner by", max_length=120)
    partner_signed_on = forms.DateField(label="Partner signature date", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == PaymentRequest.Kind.INITIAL and not data.get("sow_value"):
            self.add_error("sow_value", "Enter the SOW value.")
        if data.get("kind") == PaymentRequest.Kind.FINAL:
            data["sow_value"] = None
        return data


class AmendForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the reviewer asked, answered in your words; they see it beside the "
        "question.",
    )
    document = forms.FileField(
        label="Corrected document (PDF, optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    sow_value = MoneyFormField(
        label="SOW value (USD, optional)",
        min_value=Decimal("0.01"),
        required=False,
    )
    customer_signer = forms.CharField(
        label="Customer signer (optional)", max_length=120, required=False
    )
    customer_signed_on = forms.DateField(
        label="Customer signature date", widget=DATE, required=False
    )
    partner_signer = forms.CharField(
        label="Partner signer (optional)", max_length=120, required=False
    )
    partner_signed_on = forms.DateField(label="Partner signature date", widget=DATE, required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {k: v for k, v in data.items() if k != "document" and v not in (None, "")}
        kwargs["upload"] = data.get("document")
        return kwargs
