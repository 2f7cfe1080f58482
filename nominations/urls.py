from django.urls import path

from nominations import pages

urlpatterns = [
    path("nominations/", pages.nomination_list, name="nomination-list"),
    path("nominations/new/", pages.nomination_new, name="nomination-new"),
    path("nominations/decide/", pages.nominations_decide_page, name="nominations-decide"),
    path("nominations/check/", pages.nomination_check_partial, name="nomination-check"),
    path("nominations/<int:pk>/", pages.nomination_detail, name="nomination-detail"),
    path("nominations/<int:pk>/edit/", pages.nomination_edit, name="nomination-edit"),
    path(
        "nominations/<int:pk>/withdraw/",
        pages.nomination_withdraw_page,
        name="nomination-withdraw",
    ),
    path("nominations/<int:pk>/approve/", pages.nomination_approve_page, name="nomination-approve"),
    path("nominations/<int:pk>/reject/", pages.nomination_reject_page, name="nomination-reject"),
    path("nominations/<int:pk>/close/", pages.nomination_close, name="nomination-close"),
    path(
        "nominations/<int:pk>/close/preview/",
        pages.nomination_close_preview,
        name="nomination-close-preview",
    ),
]
