from django.core.management.base import BaseCommand, CommandError

from webapp.accounts.models import ApiToken
from webapp.accounts.services import token_revoke
from webapp.core.commands import get_user


class Command(BaseCommand):
    help = "Revoke API tokens: one by its prefix (the first 8 characters, as the admin lists them), or all of a user's."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--prefix", help="the token's first 8 characters, e.g. wb_AbC12")
        target.add_argument("--user", help="revoke every live token of this user")
        parser.add_argument("--as-user", help="username recorded as the actor in the audit trail")

    def handle(self, *args, **opts):
        tokens = ApiToken.objects.filter(revoked_at__isnull=True).select_related("user")
        if opts["prefix"]:
            tokens = tokens.filter(prefix=opts["prefix"])
            what = f"token {opts['prefix']}…"
            if len(tokens) > 1:
                raise CommandError(f"{len(tokens)} live tokens start with {opts['prefix']}; revoke them in the admin")
        else:
            tokens = tokens.filter(user=get_user(opts["user"]))
            what = f"tokens of {opts['user']}"
        tokens = list(tokens)
        if not tokens:
            raise CommandError(f"no live {what} (already revoked, or never made)")
        actor = get_user(opts["as_user"])
        revoked = sum(token_revoke(token=token, actor=actor) for token in tokens)
        self.stdout.write(f"revoked {revoked} token(s): {', '.join(t.prefix + '…' for t in tokens)}")
