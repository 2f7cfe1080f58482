from django.urls import path

from redemptions.pages import partner, review

urlpatterns = [
    path("vouchers/<str:code>/requests/new/", partner.request_submit_page, name="request-submit"),
    path(
        "vouchers/<str:code>/requests/preview/",
        partner.payout_preview_partial,
        name="payout-preview",
    ),
    path("requests/<int:pk>/", partner.request_detail, name="request-detail"),
    path("requests/<int:pk>/amend/", partner.request_amend_page, name="request-amend"),
    path("review/", review.queue, name="review-queue"),
    path("review/history/", review.history, name="review-history"),
    path("review/<int:pk>/", review.review, name="review-detail"),
    path(
        "review/<int:pk>/documents/<int:version>/",
        review.document_inline,
        name="review-document",
    ),
    path("review/<int:pk>/<slug:what>/", review.decide, name="review-decide"),
]
