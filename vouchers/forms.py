from django import forms


class ForwardForm(forms.Form):
    partner = forms.CharField(max_length=32, widget=forms.HiddenInput)
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        label="Message to the partner (optional)",
    )


class ClaimForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        label="Voucher code",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Reason (optional, shared with the customer)",
    )
