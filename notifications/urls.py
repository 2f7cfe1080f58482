from django.urls import path

from notifications.views import mail_detail, mail_list

urlpatterns = [
    path("mail/", mail_list, name="mail-list"),
    path("mail/<int:pk>/", mail_detail, name="mail-detail"),
]
