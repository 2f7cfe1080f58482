from django.urls import path

from vouchers import pages

urlpatterns = [
    path("vouchers/", pages.voucher_list, name="voucher-list"),
    path("vouchers/claim/", pages.voucher_claim_page, name="voucher-claim"),
    path("vouchers/directory/", pages.partner_directory, name="partner-directory"),
    path("extensions/", pages.extension_list, name="extension-list"),
    path("extensions/<int:pk>/decide/", pages.extension_decide_page, name="extension-decide"),
    path("vouchers/<str:code>/", pages.voucher_detail, name="voucher-detail"),
    path("vouchers/<str:code>/forward/", pages.voucher_forward_page, name="voucher-forward"),
    path("vouchers/<str:code>/decline/", pages.voucher_decline_page, name="voucher-decline"),
    path("vouchers/<str:code>/extension/", pages.extension_request_page, name="voucher-extension"),
]
