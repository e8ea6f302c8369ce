"""``manage.py db_runtime_role ROLE``: PostgreSQL only. Give the application's runtime role
exactly its privileges (docs/deploy-database.md): read and write the ordinary tables, only add
to and read the audit trail and the history tables, own nothing, so that it can neither change
an audit entry nor drop or disable the triggers that guard them. Run it as the owner of the
tables (the role ``migrate`` runs as); ``--create`` first creates the role, with the password
in the environment variable TONGXIN_DB_RUNTIME_PASSWORD (never on the command line)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from tongxin.audit.database import RoleError, create_runtime_role, grant_runtime

PASSWORD_VAR = "TONGXIN_DB_RUNTIME_PASSWORD"  # noqa: S105  (the variable's name)


class Command(BaseCommand):
    help = (
        "PostgreSQL: grant the runtime role what the application needs and no more (run as the "
        "tables' owner); --create creates it first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The runtime role's name, e.g. tongxin_app.")
        parser.add_argument(
            "--create",
            action="store_true",
            help=f"Create the role first, as a login role with the password in {PASSWORD_VAR}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        try:
            if options["create"]:
                password = os.environ.get(PASSWORD_VAR, "")
                if not password:
                    raise CommandError(f"Set {PASSWORD_VAR} to the new role's password.")
                create_runtime_role(connection, role, password)
            statements = grant_runtime(connection, role)
        except RoleError as exc:
            raise CommandError(str(exc)) from exc
        for statement in statements:
            self.stdout.write(statement + ";")
        self.stdout.write(f"Runtime role {role}: privileges granted.")
