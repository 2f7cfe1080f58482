from django.urls import path

from payments import pages

urlpatterns = [
    path("payments/", pages.payment_list, name="payment-list"),
    path("payments/batches/", pages.batch_create_page, name="batch-create"),
    path("payments/batches/<int:pk>.csv", pages.batch_download_page, name="batch-download"),
    path("payments/batches/<int:pk>/confirm/", pages.batch_confirm_page, name="batch-confirm"),
    path("disputes/", pages.dispute_list, name="dispute-list"),
    path("disputes/<int:pk>/resolve/", pages.dispute_resolve_page, name="dispute-resolve"),
    path("requests/<int:pk>/dispute/", pages.dispute_open_page, name="dispute-open"),
]
