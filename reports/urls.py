from django.urls import path, re_path

from reports import pages

urlpatterns = [
    path("dashboard/", pages.dashboard, name="dashboard"),
    re_path(r"^dashboard/(?P<name>[a-z]+)\.csv$", pages.chart_csv, name="dashboard-csv"),
    re_path(r"^exports/(?P<kind>[a-z]+)\.csv$", pages.export, name="export"),
    path("my-vouchers/", pages.rep_board, name="rep-board"),
]
