from django.contrib import admin

from core.admin_site import ScopedModelAdmin
from partners.models import Partner


@admin.register(Partner)
class PartnerAdmin(ScopedModelAdmin):
    list_display = ["partner_id", "name", "country", "currency", "frp_approved", "company"]
    list_filter = ["frp_approved", "country", "currency"]
    search_fields = ["partner_id", "name", "company"]
