from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_site import ScopedModelAdmin
from core.errors import ApplicationError
from core.scopes import acting_user
from core.words import counted
from customers.models import Customer
from customers.services import customer_verify


@admin.register(Customer)
class CustomerAdmin(ScopedModelAdmin):
    list_display = [
        "tpid",
        "name",
        "country",
        "category",
        "segment",
        "e3_licenses",
        "company",
        "verification",
    ]
    list_filter = ["verification", "category", "segment", "country"]
    search_fields = ["tpid", "name", "company"]
    # R-ELIG-8: the verification changes only through customer_verify (with its event).
    readonly_fields = ["verification", "added_by", "verified_by", "verified_at"]
    actions = ["verify"]

    @admin.action(description="Verify the selected customers (R-ELIG-8)")
    def verify(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        done = 0
        for customer in queryset.filter(verification=Customer.Verification.UNVERIFIED):
            try:
                customer_verify(tpid=customer.tpid, user=acting_user(request))
            except ApplicationError as exc:  # verified meanwhile
                self.message_user(request, exc.message, messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{counted(done, 'customer')} verified.", messages.SUCCESS)
