from django.urls import path

from redemptions import pages, review_pages

urlpatterns = [
    path("vouchers/<str:code>/requests/new/", pages.request_submit_page, name="request-submit"),
    path(
        "vouchers/<str:code>/requests/preview/", pages.payout_preview_partial, name="payout-preview"
    ),
    path("requests/<int:pk>/", pages.request_detail, name="request-detail"),
    path("requests/<int:pk>/amend/", pages.request_amend_page, name="request-amend"),
    path("review/", review_pages.queue, name="review-queue"),
    path("review/<int:pk>/", review_pages.review, name="review-detail"),
    path(
        "review/<int:pk>/documents/<int:version>/",
        review_pages.document_inline,
        name="review-document",
    ),
    path("review/<int:pk>/<slug:what>/", review_pages.decide, name="review-decide"),
]
