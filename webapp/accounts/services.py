import datetime as dt
import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from prefkit.pseudonyms import pseudonym
from webapp.accounts import sql as accounts_sql
from webapp.accounts.models import ApiToken, LoginFailure, Profile, Role, hash_token
from webapp.audit.services import audit_record
from webapp.core import clock, sql
from webapp.core.errors import Conflict, ValidationFailed

TOKEN_PREFIX = "wb_"


def _apply_role(user, role: str) -> None:
    # Admins get Django's admin; leads get the admin too, but only the models their permissions allow.
    user.is_staff = role in (Role.ADMIN, Role.LEAD)
    user.is_superuser = role == Role.ADMIN


@transaction.atomic
def user_create(*, username: str, role: str, password: str | None = None, email: str = "", actor=None,
                demo_password: bool = False):
    """Create a user with a role and a stable pseudonym (profile_attach checks the role).

    The username must pass the user model's validators and the password AUTH_PASSWORD_VALIDATORS, as in
    the admin; `demo_password` skips the latter for demo and test set-ups whose passwords are printed.
    """
    User = get_user_model()
    user = User(username=username, email=email)
    _check_username(user, username)
    if password and not demo_password:
        _check_password(user, password)
    if User.objects.filter(username=username).exists():
        raise Conflict(f"user {username!r} already exists", field="username")
    _apply_role(user, role)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    profile_attach(user=user, role=role, actor=actor)
    return user


def _check_username(user, username: str) -> None:
    field = user._meta.get_field(user.USERNAME_FIELD)
    try:
        field.clean(username, user)
    except DjangoValidationError as error:
        raise ValidationFailed(f"username {username!r}: {' '.join(error.messages)}", field="username") from None


def _check_password(user, password: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(f"password: {' '.join(error.messages)}", field="password") from None


def pseudonym_for(identity: str) -> str:
    """The pseudonym of `identity` under this deployment's key: "user:<id>" for people with an
    account here; importers name others (e.g. "external:<source>:<their id>")."""
    return pseudonym(settings.WB_PSEUDONYM_KEY, identity)


def user_pseudonym(user) -> str:
    """The pseudonym leads see for `user`: the one stored on the profile, else the rule's."""
    profile = getattr(user, "profile", None)
    return profile.pseudonym if profile is not None else pseudonym_for(f"user:{user.pk}")


@transaction.atomic
def profile_attach(*, user, role: str, actor) -> Profile:
    """Give a new user (made here or by the admin's user form) their role and pseudonym."""
    if role not in Role.values:
        raise ValidationFailed(f"role must be one of {', '.join(Role.values)}", field="role")
    profile = Profile.objects.create(user=user, role=role, pseudonym=pseudonym_for(f"user:{user.pk}"))
    _apply_role(user, role)
    user.save(update_fields=["is_staff", "is_superuser"])
    if role == Role.LEAD:
        _grant_lead_permissions(user)
    audit_record(actor=actor, action="user.created", obj=user,
                 payload={"username": user.get_username(), "role": role, "pseudonym": profile.pseudonym})
    return profile


def _grant_lead_permissions(user) -> None:
    from django.contrib.auth.models import Permission

    perms = Permission.objects.filter(
        content_type__app_label="projects", codename__in=["add_project", "change_project", "view_project",
                                                          "add_membership", "delete_membership", "view_membership"]
    )
    user.user_permissions.add(*perms)


@transaction.atomic
def role_change(*, user, role: str, actor) -> None:
    if role not in Role.values:
        raise ValidationFailed(f"role must be one of {', '.join(Role.values)}", field="role")
    profile = Profile.objects.select_for_update().get(user=user)
    old = profile.role
    if old == role:
        return
    Profile.objects.filter(pk=profile.pk).update(role=role)
    _apply_role(user, role)
    user.save(update_fields=["is_staff", "is_superuser"])
    user.user_permissions.clear()
    if role == Role.LEAD:
        _grant_lead_permissions(user)
    audit_record(actor=actor, action="user.role_changed", obj=user, payload={"from": old, "to": role})


@transaction.atomic
def token_create(*, user, actor=None) -> str:
    """Create an API token; return it in plain text (only its hash is stored)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=hash_token(raw), prefix=raw[:8], created_at=clock.now())
    audit_record(actor=actor or user, action="token.created", obj=token, payload={"user_id": user.pk, "prefix": token.prefix})
    return raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke an API token; return False if it already was. Other server processes may accept it
    for up to WB_TOKEN_CACHE_SECONDS more (their token cache); this one forgets it at once."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    if revoked:
        audit_record(actor=actor, action="token.revoked", obj=token,
                     payload={"user_id": token.user_id, "prefix": token.prefix})
        _token_rows.pop(token.key_hash, None)  # were this rolled back, the next call would just re-read it
    return bool(revoked)


# token hash → (monotonic deadline, row). Per process; only found tokens are cached.
_token_rows: dict[str, tuple[float, tuple]] = {}


def _token_row(key_hash: str) -> tuple | None:
    ttl = settings.WB_TOKEN_CACHE_SECONDS
    cached = _token_rows.get(key_hash)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = accounts_sql.token_user(key_hash)
    if row is not None and ttl > 0:
        if len(_token_rows) > 10_000:
            _token_rows.clear()
        _token_rows[key_hash] = (time.monotonic() + ttl, row)
    return row


def user_for_token(raw: str):
    """The active user a bearer token belongs to, with their profile, or None.

    Hand-written SQL: every API call starts here (webapp/core/sql.py says why). A found token is
    remembered for WB_TOKEN_CACHE_SECONDS, so a revoked token or a deactivated user can still call
    the API that long."""
    row = _token_row(hash_token(raw))
    if row is None:
        return None
    user = sql.partial_instance(get_user_model(), id=row.user_id, username=row.username, is_staff=row.is_staff,
                                is_superuser=row.is_superuser, is_active=True)
    if row.profile_id is not None:
        user.profile = sql.partial_instance(Profile, id=row.profile_id, user_id=row.user_id, role=row.role,
                                            pseudonym=row.pseudonym)
    return user


def login_throttled(*, username: str, ip: str) -> bool:
    since = clock.now() - dt.timedelta(seconds=settings.WB_LOGIN_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.WB_LOGIN_MAX_FAILURES
    return recent.filter(username=username).count() >= limit or recent.filter(ip=ip).count() >= limit * 4


@transaction.atomic
def login_failure_record(*, username: str, ip: str) -> None:
    LoginFailure.objects.create(username=username[:150], ip=ip[:64], at=clock.now())
    audit_record(actor=None, action="auth.login_failed", object_type="auth.user", object_id=username[:64],
                 payload={"username": username[:150]})
