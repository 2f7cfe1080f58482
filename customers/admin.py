from django.contrib import admin

from core.admin_site import ScopedModelAdmin
from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(ScopedModelAdmin):
    list_display = ["tpid", "name", "country", "category", "segment", "e3_licenses", "company"]
    list_filter = ["category", "segment", "country"]
    search_fields = ["tpid", "name", "company"]
