from django.urls import path, re_path

from reports import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    re_path(r"^dashboard/(?P<name>[a-z]+)\.csv$", views.chart_csv, name="dashboard-csv"),
    re_path(r"^exports/(?P<kind>[a-z]+)\.csv$", views.export, name="export"),
    path("my-vouchers/", views.rep_board, name="rep-board"),
]
