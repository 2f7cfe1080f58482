from django.db.models import Prefetch, QuerySet

from programs.models import CapRow, CombinedCapRow, Offer, Program, Workload


def programs_with_data() -> QuerySet[Program]:
    """Programs with every table prefetched: a fixed number of queries at any size."""
    return Program.objects.prefetch_related(
        Prefetch("offers", queryset=Offer.objects.prefetch_related("workloads").order_by("code")),
        Prefetch(
            "workloads",
            queryset=Workload.objects.prefetch_related("country_lists").order_by("code"),
        ),
        Prefetch(
            "cap_rows",
            queryset=CapRow.objects.select_related(
                "offer", "required_workload", "superseded_by"
            ).order_by("offer__code", "-priority", "window_start", "key"),
        ),
        Prefetch(
            "combined_cap_rows",
            queryset=CombinedCapRow.objects.select_related("superseded_by").order_by(
                "segment", "window_start", "combined_cap"
            ),
        ),
        "segment_rules",
        "country_lists",
        "holidays",
    )
