"""Hand-written SQL of the accounts app: the token lookup every API call starts with (why: webapp/core/sql.py)."""
from webapp.core import sql

_TOKEN_USER = """
    SELECT u.id AS user_id, u.username, u.is_staff, u.is_superuser, p.id AS profile_id, p.role, p.pseudonym
    FROM accounts_apitoken t
    JOIN auth_user u ON u.id = t.user_id
    LEFT JOIN accounts_profile p ON p.user_id = u.id
    WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"""


def token_user(key_hash: str):
    """(user_id, username, is_staff, is_superuser, profile_id, role, pseudonym) of the live token's
    active user, by name; None if there is none."""
    return sql.named_one(_TOKEN_USER, [key_hash])
