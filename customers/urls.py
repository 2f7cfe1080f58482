from django.urls import path

from customers import pages

urlpatterns = [
    path("customers/new/", pages.customer_new, name="customer-new"),
    path("customers/<path:tpid>/verify/", pages.customer_verify_page, name="customer-verify"),
]
