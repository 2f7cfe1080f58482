from django.urls import path

from imports import pages

urlpatterns = [
    path("imports/", pages.import_list, name="import-list"),
    path("imports/sample.csv", pages.import_sample_csv, name="import-sample"),
    path("imports/<int:pk>/", pages.import_detail, name="import-detail"),
    path("imports/<int:pk>/commit/", pages.import_commit_page, name="import-commit"),
    path("imports/<int:pk>/progress/", pages.import_progress, name="import-progress"),
    path("imports/<int:pk>/errors.csv", pages.import_errors_csv, name="import-errors"),
]
