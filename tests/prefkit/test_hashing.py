import hashlib
import json
import random

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


def test_it_writes_strings_objects_and_arrays_exactly_as_json_dumps_does():
    # canonical_json keeps one encoder for all calls: any value must come out as the README's
    # json.dumps call gives it.
    rng = random.Random(3)
    alphabet = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', '\x00', '\x1f', '\x7f', '\x85', 'é', '\u2028', '\ufeff',
                '漢', '\U0001F600', '\ud800', '<', '&']

    def string():
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    def value(depth=0):
        roll = rng.random()
        if depth > 2 or roll < 0.4:
            return string() if rng.random() < 0.85 else rng.choice([1, 2.5, None, True, -0.0])
        if roll < 0.7:
            return {string(): value(depth + 1) for _ in range(rng.randint(0, 4))}
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]

    values = [value() for _ in range(3000)] + [[{"role": "user", "content": string()}] * 3, {"text": "", "model": ""}]
    for item in values:
        assert canonical_json(item) == json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
