"""API: sign-in for other systems and phones (token), and who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_otp import match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts import services
from tongxin.accounts.models import User
from tongxin.accounts.views import BAD_CREDENTIALS, LOCKED_OUT


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text="TOTP code: required for county_admin and system_admin.",
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


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: TokenResponseSerializer,
        400: inline_serializer("TokenError", {"detail": serializers.CharField()}),
        429: inline_serializer("TokenLocked", {"detail": serializers.CharField()}),
    },
    summary="Exchange username and password (and TOTP code) for a token",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def token_create(request: Request) -> Response:
    data = TokenRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    username = data.validated_data["username"]
    django_request = request._request
    locked_before = services.sign_in_locked(django_request, username)
    user = authenticate(django_request, username=username, password=data.validated_data["password"])
    if not isinstance(user, User):
        # As on the sign-in page: the attempt that reaches the limit answers like the others.
        locked = bool(getattr(django_request, "axes_locked_out", False))
        services.login_failed(
            request=django_request, username=username, locked=locked, channel="api"
        )
        if locked_before:
            return Response({"detail": str(LOCKED_OUT)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return Response({"detail": str(BAD_CREDENTIALS)}, status=status.HTTP_400_BAD_REQUEST)
    if user.needs_second_factor:
        otp = data.validated_data.get("otp")
        if not otp or match_token(user, otp) is None:
            services.second_factor_failed(request=django_request, user=user, channel="api")
            return Response(
                {"detail": _("A valid code from your authenticator app is required (otp).")},
                status=status.HTTP_400_BAD_REQUEST,
            )
    instance, token = AuthToken.objects.create(user)
    services.login_succeeded(request=django_request, user=user, channel="api")
    return Response({"token": token, "expiry": instance.expiry})


@extend_schema(responses={200: MeSerializer}, summary="The signed-in user")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request: Request) -> Response:
    return Response(MeSerializer(request.user).data)
