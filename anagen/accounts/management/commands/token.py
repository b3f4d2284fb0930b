from django.core.management.base import BaseCommand, CommandError

from anagen.accounts.services import token_create
from anagen.core.errors import ActionError


class Command(BaseCommand):
    help = "Manage API tokens. `anagen token create --user EMAIL` prints a new bearer token."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a staff member")
        create.add_argument("--user", required=True, help="the staff member's e-mail")
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument("--days", type=int, default=None,
                            help="how many days the token lasts (default 90, ANAGEN_TOKEN_DAYS)")

    def handle(self, *args, **opts):
        try:
            token, raw = token_create(email=opts["user"], name=opts["name"], days=opts["days"])
        except ActionError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
        self.stderr.write(f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
