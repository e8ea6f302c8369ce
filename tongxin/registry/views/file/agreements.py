"""The care agreement (委托照护协议) on the child's file: a new one, its termination, the
entrusted caregiver found lacking capacity, and the audited scan."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.geo.scope import get_for_user_or_404
from tongxin.registry import agreements
from tongxin.registry.forms import AgreementForm, IncapacityForm, TerminateForm
from tongxin.registry.models import CareAgreement, Child, Household
from tongxin.registry.selectors import get_child_for_user
from tongxin.registry.views.file.common import edit, keeps_files, reads_files


def _eldest_birth(household: Household) -> date | None:
    """An agreement covers every child of the family: none of its dates can precede the
    eldest's birth."""
    return household.children.order_by("birth_date").values_list("birth_date", flat=True).first()


def _agreement(child: Child, agreement_id: Any) -> CareAgreement:
    return get_for_user_or_404(
        CareAgreement.objects.filter(household=child.household).select_related("household"),
        public_id=agreement_id,
    )


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    household = child.household

    def save(form: AgreementForm) -> None:
        agreements.agreement_create(
            actor=user,
            household=household,
            fields=form.model_values(),
            caregiver_id_number=form.cleaned_data["caregiver_id_number"],
            document=form.cleaned_data["document"] or None,
            request=request,
        )

    return edit(
        request,
        child,
        partial(AgreementForm, born_on=_eldest_birth(household)),
        save,
        # The family's caregiver is usually the one entrusted: offered, not imposed.
        initial=lambda: {
            "caregiver_name": household.caregiver_name,
            "caregiver_relation": household.caregiver_relation,
            "caregiver_phone": household.caregiver_phone,
            "caregiver_address": household.caregiver_address,
        },
        title=_("New care agreement"),
        section="agreement",
        intro=_("The parents away entrust the children to a caregiver, in writing (task 5)."),
        message=_("The care agreement was archived."),
        multipart=True,
    )


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_terminate(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)

    def save(form: TerminateForm) -> None:
        agreements.agreement_terminate(
            actor=user,
            agreement=agreement,
            terminated_on=form.cleaned_data["terminated_on"],
            request=request,
        )

    return edit(
        request,
        child,
        partial(TerminateForm, born_on=_eldest_birth(agreement.household)),
        save,
        initial=lambda: {"terminated_on": timezone.localdate()},
        title=_("Terminate the care agreement"),
        section="agreement",
        message=_("The care agreement was terminated."),
    )


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_incapable(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    """The entrusted caregiver lacks capacity: recorded with the day the parents were told."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)
    intro = _(
        "Tell the parents, so that they make another arrangement, and record the day you told them."
    )

    def save(form: IncapacityForm) -> None:
        agreements.agreement_caregiver_incapable(
            actor=user,
            agreement=agreement,
            parents_told_on=form.cleaned_data["parents_told_on"],
            request=request,
        )

    return edit(
        request,
        child,
        partial(IncapacityForm, born_on=_eldest_birth(agreement.household)),
        save,
        initial=lambda: {"parents_told_on": timezone.localdate()},
        title=_("The caregiver lacks capacity"),
        section="agreement",
        intro=intro,
    )


@staff_view(allow=reads_files)
def agreement_document(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    """The scanned agreement, for those who may read the file; every look is audited. Never a
    public /media/ address."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)
    if not agreement.document:
        raise Http404
    agreements.agreement_document_opened(actor=user, agreement=agreement, request=request)
    content_type = agreements.document_content_type(agreement)
    suffix = agreements.document_suffix(agreement)
    # At most 5 MB: read whole, so the file is closed before the response leaves.
    with agreement.document.open("rb") as scan:
        response = HttpResponse(scan.read(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="agreement.{suffix}"'
    add_never_cache_headers(response)
    return response
