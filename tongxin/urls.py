from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tongxin import views
from tongxin.accounts import views as accounts_views
from tongxin.core import health

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", accounts_views.login_view, name="login"),
    path("accounts/logout/", accounts_views.logout_view, name="logout"),
    path("accounts/2fa/", accounts_views.second_factor, name="second_factor"),
    path("accounts/", include("tongxin.accounts.urls")),
    path("divisions/", include("tongxin.geo.urls")),
    path("audit/", include("tongxin.audit.urls")),
    path("children/", include("tongxin.registry.urls")),
    path("ledger/", include("tongxin.interop.urls")),
    path("benefits/rolls/", include("tongxin.benefits.roll_urls")),
    path("visits/notifications/", include("tongxin.notices.urls")),
    path("exports/", include("tongxin.exports.urls")),
    path("visits/", include("tongxin.visits.urls")),
    path("reports/", include("tongxin.protection.urls")),
    path("benefits/", include("tongxin.benefits.urls")),
    path("settings/", include("tongxin.workdays.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("tongxin.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("healthz", health.healthz, name="healthz"),
]

# 400 keeps the navigation (Django's default draws 400.html without the request); 403, 404 and
# 500 are Django's handlers drawing our templates.
handler400 = "tongxin.core.errors.bad_request"
