"""The versioned JSON API, ``/api/v1/``. Each app contributes its endpoints here."""

from django.urls import path

from tongxin.accounts import api as accounts_api
from tongxin.benefits import api as benefits_api
from tongxin.benefits import api_enrolments as benefits_api_enrolments
from tongxin.protection import api as protection_api
from tongxin.protection import api_problems as protection_api_problems
from tongxin.protection import api_referrals as protection_api_referrals
from tongxin.protection import api_stats as protection_api_stats
from tongxin.registry import api as registry_api
from tongxin.registry import api_family as registry_api_family
from tongxin.registry import api_file as registry_api_file
from tongxin.registry import api_lists as registry_api_lists
from tongxin.visits import api_compliance as visits_api_compliance
from tongxin.visits import api_contacts as visits_api_contacts
from tongxin.visits import api_risk as visits_api_risk
from tongxin.visits import api_worklist as visits_api_worklist

app_name = "api"
urlpatterns = [
    path("auth/token", accounts_api.AuthTokenView.as_view(), name="auth_token"),
    path("me", accounts_api.me, name="me"),
    path("classify", registry_api.classify, name="classify"),
    path("eligibility", benefits_api.eligibility, name="eligibility"),
    path("benefits/programmes", benefits_api_enrolments.programmes, name="benefit_programmes"),
    path(
        "children/<uuid:public_id>/enrolments",
        benefits_api_enrolments.child_enrolments,
        name="child_enrolments",
    ),
    path("children", registry_api_lists.child_list, name="child_list"),
    path("children/search", registry_api_lists.child_search, name="child_search"),
    path("children/<uuid:public_id>", registry_api_file.child_detail, name="child_detail"),
    path(
        "children/<uuid:public_id>/parents/<str:role>",
        registry_api_family.child_parent,
        name="child_parent",
    ),
    path(
        "children/<uuid:public_id>/parents/<str:role>/migrations",
        registry_api_family.parent_migration_create,
        name="parent_migration_create",
    ),
    path(
        "children/<uuid:public_id>/migrations/<uuid:spell>",
        registry_api_family.child_migration,
        name="child_migration",
    ),
    path(
        "children/<uuid:public_id>/contacts",
        visits_api_contacts.child_contacts,
        name="child_contacts",
    ),
    path("contacts", visits_api_contacts.contact_create, name="contact_create"),
    path("contacts/<uuid:public_id>", visits_api_contacts.contact_detail, name="contact_detail"),
    path("children/<uuid:public_id>/risk", visits_api_risk.child_risk, name="child_risk"),
    path(
        "children/<uuid:public_id>/risk/override",
        visits_api_risk.child_risk_override,
        name="child_risk_override",
    ),
    path("worklist", visits_api_worklist.worklist, name="worklist"),
    path("compliance", visits_api_compliance.compliance, name="compliance"),
    path("reports", protection_api.report_collection, name="report_collection"),
    # Before reports/<code>: "stats" is not a report's code.
    path("reports/stats", protection_api_stats.report_stats_view, name="report_stats"),
    path("reports/<str:code>", protection_api.report_detail, name="report_detail"),
    path(
        "reports/<str:code>/transitions",
        protection_api.report_transitions,
        name="report_transitions",
    ),
    path("reports/<str:code>/addenda", protection_api.report_addenda, name="report_addenda"),
    path(
        "reports/<str:code>/attachments/<uuid:attachment_id>",
        protection_api.report_attachment,
        name="report_attachment",
    ),
    path(
        "children/<uuid:public_id>/problems",
        protection_api_problems.child_problems,
        name="child_problems",
    ),
    path("problems/<uuid:code>", protection_api_problems.problem_detail, name="problem_detail"),
    path("referrals", protection_api_referrals.referral_create, name="referral_create"),
    path("referrals/<uuid:code>", protection_api_referrals.referral_detail, name="referral_detail"),
    path(
        "referrals/<uuid:code>/transitions",
        protection_api_referrals.referral_transitions,
        name="referral_transitions",
    ),
]
