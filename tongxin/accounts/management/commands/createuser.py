"""Create an account from the command line: the first county administrator of an installation,
or any account an operator with shell access is asked for.

    python manage.py createuser wangfang --role county_admin --division 620724000000 \\
        --organisation 高台县民政局 --name 王芳

Without ``--password-stdin`` a password is generated and printed once. Either way it is a
one-time password: the person sets their own at the first sign-in, within
``TONGXIN_ONE_TIME_PASSWORD_HOURS``. The role is in force at once, even one that needs a second
person in the application (an operator with shell access bootstraps the installation: decision
015).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongxin.accounts import services
from tongxin.accounts.models import Organisation
from tongxin.accounts.roles import Role
from tongxin.geo.models import Division


class Command(BaseCommand):
    help = "Create a user account with a role and a division (the password is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        parser.add_argument(
            "--division", required=True, help="12-digit division code, e.g. 620724000000."
        )
        parser.add_argument("--organisation", default="", help="Name of the organisation.")
        parser.add_argument("--name", default="", help="The person's full name.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the one-time password from the first line of standard input instead of "
            "generating one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if role not in Role.values:
            raise CommandError(
                _("Unknown role: %(role)s. Choose one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            )
        division = Division.objects.filter(code=options["division"]).first()
        if division is None:
            raise CommandError(_("Unknown division: %(code)s.") % {"code": options["division"]})
        organisation = (
            _organisation(options["organisation"], division) if options["organisation"] else None
        )
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError(_("No password on standard input."))
        try:
            created = services.user_create(
                actor=None,
                username=options["username"],
                role=role,
                division=division,
                organisation=organisation,
                name=options["name"],
                password=password,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("Created %(username)s: %(role)s, %(division)s.")
            % {
                "username": created.user.username,
                "role": created.user.get_role_display(),
                "division": division.name,
            }
        )
        if password is None:
            self.stdout.write(
                _(
                    "One-time password (shown this once; the person sets their own at first "
                    "sign-in): %(password)s"
                )
                % {"password": created.password}
            )


def _organisation(name: str, division: Division) -> Organisation:
    """The organisation of that name; among namesakes, the one related to ``division``."""
    found = list(Organisation.objects.filter(name=name).select_related("division"))
    if len(found) > 1:
        found = [o for o in found if _related(o.division, division)]
    if not found:
        raise CommandError(_("Unknown organisation: %(name)s.") % {"name": name})
    if len(found) > 1:
        raise CommandError(
            _("Several organisations are called %(name)s; none is closer to the division.")
            % {"name": name}
        )
    return found[0]


def _related(a: Division, b: Division) -> bool:
    return a.contains(b.code) or b.contains(a.code)
