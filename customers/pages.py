"""Pages: a field rep adds a customer not yet in the portal (unverified), a program
manager verifies it (R-ELIG-8)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.pages import add_refusal, require_scope
from core.scopes import acting_user
from customers.forms import CustomerForm
from customers.selectors import customers_visible_to
from customers.services import customer_create, customer_verify


def _next(request: HttpRequest) -> str:
    """The page to return to, when it is one of this site's."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@login_required
def customer_new(request: HttpRequest) -> HttpResponse:
    """Adds a customer; a field rep's is unverified until a program manager verifies it.
    Back on the page that sent here (the nomination form) with the customer chosen."""
    require_scope(request, "customers:add")
    user = acting_user(request)
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(user=user, **form.cleaned_data)
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            if customer.is_verified:
                messages.success(request, f"{customer.name} added.")
            else:
                messages.success(
                    request,
                    f"{customer.name} added. You can nominate it now; a program manager "
                    "verifies it before the nomination can be approved (R-ELIG-8).",
                )
            target = _next(request)
            if target:
                glue = "&" if "?" in target else "?"
                return redirect(f"{target}{glue}{urlencode({'customer': customer.tpid})}")
            return redirect("home")
    return render(request, "customers/new.html", {"form": form, "next": _next(request)})


@login_required
@require_POST
def customer_verify_page(request: HttpRequest, tpid: str) -> HttpResponse:
    require_scope(request, "customers:verify")
    customer = get_object_or_404(customers_visible_to(acting_user(request)), tpid=tpid)
    try:
        customer_verify(tpid=customer.tpid, user=acting_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{customer.name} verified: its nominations can now be approved.")
    return redirect(_next(request) or "home")
