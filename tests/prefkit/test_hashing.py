import hashlib
import json

import pytest

from prefkit.hashing import canonical_hash, canonical_json


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
