from typing import Any

from django.core.management.base import BaseCommand

from tongxin.demo import demo_load


class Command(BaseCommand):
    help = "Load the Gaotai demo (divisions, organisations, one account per role). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo_load()
        d = report.divisions
        self.stdout.write(
            f"Divisions: {d['created']} created, {d['updated']} updated, "
            f"{d['unchanged']} unchanged. Organisations: {report.organisations_created} created."
        )
        self.stdout.write(
            f"Children: {report.children_generated} generated; "
            f"contacts: {report.contacts_generated} generated; "
            f"example benefit standards: {report.benefit_standards} added; "
            f"benefit enrolments: {report.benefit_enrolments} added."
        )
        new = [(a, pw) for a, pw in report.accounts if pw]
        if new:
            self.stdout.write(self.style.SUCCESS("Demo accounts (passwords are shown this once):"))
            for account, password in new:
                self.stdout.write(f"  {account.username:<14} {account.role:<20} {password}")
        old = [a.username for a, pw in report.accounts if not pw]
        if old:
            self.stdout.write(f"Demo accounts already there, passwords unchanged: {', '.join(old)}")
