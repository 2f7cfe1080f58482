from django.urls import path

from programs.pages import program_detail

urlpatterns = [path("programs/<str:code>/", program_detail, name="program-detail")]
