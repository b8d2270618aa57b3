"""The one rule for rater pseudonyms: the stable id leads, exports and audit payloads show.

A pseudonym is ``"R-"`` and the first ten hex digits (upper case) of HMAC-SHA256(key, identity).
The same identity under the same key always gets the same pseudonym, so a rater who judged here
and the same person's judgments imported from elsewhere can be told apart or matched only by whoever
holds the key; without the key a pseudonym says nothing about the identity behind it.
"""
import hashlib
import hmac

PREFIX = "R-"
HEX_DIGITS = 10


def pseudonym(key: bytes | str, identity: str) -> str:
    """Return the pseudonym of `identity` (e.g. ``"user:42"``, ``"external:lab-7:w19"``) under `key`."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("a pseudonym key must not be empty")
    digest = hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS].upper()
