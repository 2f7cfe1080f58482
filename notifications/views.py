from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from core.scopes import has_scope
from notifications.models import OutboundMail


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
