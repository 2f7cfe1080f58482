from django.urls import path

from notifications.pages import mail_detail, mail_list, mail_resend_view

urlpatterns = [
    path("mail/", mail_list, name="mail-list"),
    path("mail/<int:pk>/", mail_detail, name="mail-detail"),
    path("mail/<int:pk>/resend/", mail_resend_view, name="mail-resend"),
]
