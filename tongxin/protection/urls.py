"""Pages of mandatory reports, under /reports/."""

from tongxin.protection import (
    views_interventions,
    views_problems,
    views_referrals,
    views_routing,
    views_stats,
)
from tongxin.protection.views import urlpatterns

app_name = "reports"

# Problems found and referrals (转介).
urlpatterns = [*urlpatterns, *views_problems.urlpatterns, *views_referrals.urlpatterns]
# Guardianship interventions (监护干预) and the statistics of mandatory reports.
urlpatterns += [*views_interventions.urlpatterns, *views_stats.urlpatterns]
# The routing table of new reports.
urlpatterns += views_routing.urlpatterns

__all__ = ["app_name", "urlpatterns"]
