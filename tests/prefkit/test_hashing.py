import hashlib
import json

import pytest

from prefkit.hashing import canonical_hash, canonical_json, canonical_object_json, sha256_hex


def test_it_hashes_the_canonical_json_text_as_utf8():
    value = {"b": [1, 2.5, None], "a": "naïve ✓"}

    assert canonical_json(value) == '{"a":"naïve ✓","b":[1,2.5,null]}'
    assert canonical_hash(value) == hashlib.sha256('{"a":"naïve ✓","b":[1,2.5,null]}'.encode()).hexdigest()


def test_it_ignores_key_order_but_not_list_order():
    assert canonical_hash({"x": 1, "y": 2}) == canonical_hash({"y": 2, "x": 1})
    assert canonical_hash([1, 2]) != canonical_hash([2, 1])


def test_it_refuses_values_json_cannot_represent():
    with pytest.raises(TypeError):
        canonical_hash({"at": object()})


def test_it_differs_from_json_dumps_with_default_separators():
    # The convention the prompt and response keys used before: easy to slip back into.
    value = {"text": "hi", "model": "m"}

    assert canonical_hash(value) != hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("value", [
    {},
    {"messages": [{"role": "user", "content": "naïve \"quoted\" ✓\n"}]},
    {"text": "t", "model": ""},
    {"prompt": [], "response_a": {"text": "a", "model": "m"}, "response_b": {"model": "", "text": "\u2028"}},
    {"b": 1, "a": None, "ä": [1.5, True], "A": "x", "\u00e9": {"z": 1, "y": 2}},
])
def test_it_builds_an_object_from_its_members_canonical_json(value):
    members = {key: canonical_json(item) for key, item in value.items()}

    assert canonical_object_json(members) == canonical_json(value)
    assert sha256_hex(canonical_object_json(members)) == canonical_hash(value)
