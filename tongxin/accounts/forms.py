from __future__ import annotations

from typing import Any

from django import forms
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongxin.accounts.models import (
    Department,
    InstitutionType,
    Organisation,
    OrganisationKind,
    User,
)
from tongxin.accounts.roles import Role
from tongxin.geo.models import Division
from tongxin.geo.scope import scope_q


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("Enter the 6 digits your app shows.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PasswordSetForm(forms.Form):
    """The person's own password: the current one first (unless they are replacing a one-time
    password they have just signed in with), the new one twice. The rules are the validators'
    (``credentials.password_set`` applies them)."""

    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 10 characters, of at least 3 kinds (lower case, upper case, digits, "
            "other); not a common password, not like your name."
        ),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: User, ask_current: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not ask_current:
            del self.fields["current_password"]

    def clean_current_password(self) -> str:
        current: str = self.cleaned_data["current_password"]
        if not self.user.check_password(current):
            raise forms.ValidationError(_("That is not your current password."))
        return current

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        first, second = (
            self.cleaned_data.get("new_password1"),
            self.cleaned_data.get("new_password2"),
        )
        if first and second and first != second:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class _UserFieldsForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    division = forms.ModelChoiceField(label=_("Division"), queryset=Division.objects.none())
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = Division.objects.visible_to(actor)  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            scope_q(actor, "division__code")
        ).select_related("division")


class UserCreateForm(_UserFieldsForm):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+$",
        error_messages={"invalid": _("Letters, digits and . @ + - _ only.")},
    )
    # No password field: the system generates a one-time one, shown once to hand over.
    field_order = ["username", "name", "phone", "role", "division", "organisation"]


class UserUpdateForm(_UserFieldsForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class OrganisationForm(forms.Form):
    """An organisation as a county registers it; the rules are the service's
    (``services.organisation_create``), which names the field at fault."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(
        label=pgettext_lazy("organisation", "Kind"), choices=OrganisationKind.choices
    )
    institution_type = forms.ChoiceField(
        label=_("Institution type"),
        choices=[("", BLANK_CHOICE_LABEL), *InstitutionType.choices],
        required=False,
        help_text=_("Required for an institution; its reporters' reports are counted under it."),
    )
    department = forms.ChoiceField(
        label=_("Department"),
        choices=[("", BLANK_CHOICE_LABEL), *Department.choices],
        required=False,
        help_text=_("For a county department only."),
    )
    division = forms.ModelChoiceField(label=_("Division"), queryset=Division.objects.none())

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = Division.objects.visible_to(actor).order_by("code")  # type: ignore[attr-defined]
