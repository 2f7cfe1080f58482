from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.scopes import has_scope
from notifications.models import OutboundMail
from notifications.services import mail_resend


def _require_mail_scope(request: HttpRequest) -> None:
    if not has_scope(request.user, "mail:read"):  # type: ignore[arg-type]
        raise Http404


@login_required
def mail_list(request: HttpRequest) -> HttpResponse:
    """Every mail the portal sent or will send, newest first (program managers)."""
    _require_mail_scope(request)
    mails = OutboundMail.objects.only(
        "id",
        "kind",
        "to",
        "cc",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "related_object",
    )
    status = request.GET.get("status", "")
    if status in OutboundMail.Status.values:
        mails = mails.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind:
        mails = mails.filter(kind=kind)
    about = request.GET.get("about", "").strip()
    if about:
        mails = mails.filter(related_object__icontains=about)
    page = Paginator(mails, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/mail_list.html",
        {"page": page, "status": status, "statuses": OutboundMail.Status.choices},
    )


@login_required
def mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_mail_scope(request)
    mail = get_object_or_404(OutboundMail.objects.prefetch_related("attachments"), pk=pk)
    return render(request, "notifications/mail_detail.html", {"mail": mail})


@login_required
@require_POST
def mail_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A program manager sends a mail again; the copy records who and from which mail."""
    _require_mail_scope(request)
    original = get_object_or_404(OutboundMail, pk=pk)
    copy = mail_resend(mail_id=original.pk, user=request.user)
    messages.success(request, f"Sent again as mail #{copy.pk}.")
    return redirect("mail-detail", pk=copy.pk)
