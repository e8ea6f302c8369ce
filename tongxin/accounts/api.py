"""API: sign-in for other systems and phones (a token, and its revocation), and who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_otp import match_token
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tongxin.accounts import credentials, services
from tongxin.accounts.models import User
from tongxin.accounts.views import BAD_CREDENTIALS, LOCKED_OUT
from tongxin.core.http import signed_in_user


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text="TOTP code: required for county_admin, system_admin and security_admin.",
    )


class TokenResponseSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    expiry = serializers.DateTimeField()


class DivisionOutSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class OrganisationOutSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    kind = serializers.CharField()
    department = serializers.CharField()


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    division = DivisionOutSerializer(allow_null=True)
    organisation = OrganisationOutSerializer(allow_null=True)


_DETAIL: dict[str, serializers.Field[Any, Any, Any, Any]] = {"detail": serializers.CharField()}


class AuthTokenView(APIView):
    """``/api/v1/auth/token``: POST signs in (anyone may ask), DELETE revokes the token the
    request carries."""

    def get_authenticators(self) -> list[Any]:
        # Asking for a token needs none (a stale token in the header must not refuse it).
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            # 400 as every operation that reads input (tongxin/core/api_schema.py): a field
            # left out or too long is named; wrong credentials or code answer `detail`.
            200: TokenResponseSerializer,
            403: inline_serializer("TokenRefused", _DETAIL),
            429: inline_serializer("TokenLocked", _DETAIL),
        },
        summary="Exchange username and password (and TOTP code) for a token",
        description=(
            "400: a field is missing or invalid (named), or the username, password or code is "
            "wrong (`detail`).\n\n"
            "403: the account must first set its own password on the web sign-in page (it "
            "signed in with a one-time password), or it already holds as many tokens as it may "
            "(REST_KNOX TOKEN_LIMIT_PER_USER): revoke one on its account page or with DELETE."
        ),
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        django_request = request._request
        locked_before = services.sign_in_locked(django_request, username)
        user = authenticate(
            django_request, username=username, password=data.validated_data["password"]
        )
        if not isinstance(user, User):
            # As on the sign-in page: the attempt that reaches the limit answers like the others.
            locked = bool(getattr(django_request, "axes_locked_out", False))
            services.login_failed(
                request=django_request, username=username, locked=locked, channel="api"
            )
            if locked_before:
                return Response(
                    {"detail": str(LOCKED_OUT)}, status=status.HTTP_429_TOO_MANY_REQUESTS
                )
            return Response({"detail": str(BAD_CREDENTIALS)}, status=status.HTTP_400_BAD_REQUEST)
        if user.must_change_password:
            return Response(
                {
                    "detail": _(
                        "Sign in on the web first and set your own password: the one you were "
                        "given works only for that."
                    )
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        if user.needs_second_factor:
            otp = data.validated_data.get("otp")
            if not otp or match_token(user, otp) is None:
                services.second_factor_failed(request=django_request, user=user, channel="api")
                return Response(
                    {"detail": _("A valid code from your authenticator app is required (otp).")},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        if credentials.token_limit_reached(user):
            return Response(
                {
                    "detail": _(
                        "You hold as many API tokens as you may (%(limit)d): revoke one on your "
                        "account page first."
                    )
                    % {"limit": knox_settings.TOKEN_LIMIT_PER_USER}
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        instance, token = AuthToken.objects.create(user)
        services.login_succeeded(request=django_request, user=user, channel="api")
        return Response({"token": token, "expiry": instance.expiry})

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="The token is revoked: it works no more.")},
        summary="Revoke the token this request carries",
    )
    def delete(self, request: Request) -> Response:
        user = signed_in_user(request)
        token = request.auth
        assert isinstance(token, AuthToken)
        credentials.token_revoke(
            actor=user,
            user=user,
            ref=credentials.token_ref(token),
            request=request._request,
            channel="api",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses={200: MeSerializer}, summary="The signed-in user")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request: Request) -> Response:
    return Response(MeSerializer(request.user).data)
