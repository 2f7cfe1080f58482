from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from core.ratelimit import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="core.login_failed_per_address")


class PortalAdminConfig(AdminConfig):
    default_site = "core.admin_site.PortalAdminSite"
