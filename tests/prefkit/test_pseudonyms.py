import hashlib
import hmac
import re

import pytest

from prefkit.pseudonyms import pseudonym


def test_it_derives_the_pseudonym_from_an_hmac_of_the_identity():
    expected = hmac.new(b"k3y", b"user:42", hashlib.sha256).hexdigest()[:10].upper()

    assert pseudonym("k3y", "user:42") == "R-" + expected
    assert pseudonym(b"k3y", "user:42") == pseudonym("k3y", "user:42")
    assert re.fullmatch(r"R-[0-9A-F]{10}", pseudonym("k3y", "external:lab:w19"))


def test_it_is_stable_per_key_and_says_nothing_without_it():
    assert pseudonym("k3y", "user:42") == pseudonym("k3y", "user:42")
    assert pseudonym("k3y", "user:42") != pseudonym("k3y", "user:43")
    assert pseudonym("k3y", "user:42") != pseudonym("other", "user:42")


def test_it_refuses_an_empty_key():
    with pytest.raises(ValueError, match="key"):
        pseudonym("", "user:1")
