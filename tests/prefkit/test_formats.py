import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from prefkit.formats import (
    ImportFormatError,
    ImportReader,
    ParsedResponse,
    RecordProblem,
    parse_import,
    parse_import_detailed,
)
from prefkit.hashing import canonical_hash

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def jsonl(*records) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode("utf-8")


def pair(**overrides) -> dict:
    record = {"prompt": "What is 2 + 2?", "response_a": "4", "response_b": "Five."}
    record.update(overrides)
    return record


def parse_error(data: bytes, **kwargs) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as info:
        parse_import(data, file_name="pairs.jsonl", **kwargs)
    return info.value


def hh(chosen_reply="Four.", rejected_reply="Five.", prompt="\n\nHuman: What is 2 + 2?", **extra) -> dict:
    return {"chosen": f"{prompt}\n\nAssistant: {chosen_reply}", "rejected": f"{prompt}\n\nAssistant: {rejected_reply}", **extra}


# --- The real fixture files -----------------------------------------------------------------------


def test_it_parses_the_hh_rlhf_fixture():
    file_format, comparisons = parse_import((FIXTURES / "hh_rlhf_demo.jsonl").read_bytes(), file_name="hh.jsonl")

    assert file_format == "hh-rlhf"
    assert len(comparisons) == 60
    assert [c.line for c in comparisons] == list(range(1, 61))
    for comparison in comparisons:
        roles = [m["role"] for m in comparison.prompt_messages]
        assert roles[0] == roles[-1] == "user"
        assert set(roles) <= {"user", "assistant"}
        assert comparison.prompt_source == "hh-rlhf"
        assert comparison.response_a.model == comparison.response_b.model == ""
        assert set(comparison.metadata) == {"source_subset", "source_line"}


def test_it_puts_the_chosen_reply_first_about_half_the_time():
    lines = (FIXTURES / "hh_rlhf_demo.jsonl").read_bytes().splitlines()
    _, comparisons = parse_import(b"\n".join(lines), file_name="hh.jsonl")

    golds = Counter(c.gold for c in comparisons)
    assert set(golds) == {"a", "b"}
    assert 15 <= golds["a"] <= 45
    for line, comparison in zip(lines, comparisons):
        chosen_reply = json.loads(line)["chosen"].rsplit("\n\nAssistant:", 1)[1].strip()
        gold_side = comparison.response_a if comparison.gold == "a" else comparison.response_b
        assert gold_side.text == chosen_reply


def test_it_parses_the_llmfao_fixture():
    data = (FIXTURES / "llmfao_demo.jsonl").read_bytes()
    file_format, comparisons = parse_import(data, file_name="llmfao.jsonl")

    assert file_format == "llmfao"
    assert len(comparisons) == 40
    first, record = comparisons[0], json.loads(data.splitlines()[0])
    assert first.prompt_messages == [{"role": "user", "content": record["text"]}]
    assert first.response_a == ParsedResponse(text=record["result_x"], model=f"llmfao:{record['model_x']}", generation={})
    assert first.response_b.text == record["result_y"]
    assert first.external_id == str(record["id"])
    assert first.gold == ""
    assert first.prompt_source == "llmfao"
    assert first.prompt_metadata == {"prompt_id": record["prompt"], "type": record["type"], "slug": record["slug"], "note": None}
    assert first.metadata["prompt_id"] == record["prompt"]
    assert first.metadata["model_x"] == record["model_x"]


def test_it_keeps_empty_llmfao_results():
    _, comparisons = parse_import((FIXTURES / "llmfao_demo.jsonl").read_bytes(), file_name="llmfao.jsonl")

    empty = [c for c in comparisons if not c.response_a.text.strip() or not c.response_b.text.strip()]
    assert len(empty) >= 1 and len(comparisons) == 40


def test_it_parses_the_xss_demo_fixture():
    file_format, [comparison] = parse_import((FIXTURES / "xss_demo.jsonl").read_bytes(), file_name="xss.jsonl")

    assert file_format == "workbench"
    assert "<script>" in comparison.response_a.text
    assert comparison.response_a.model == "demo-model-xss"
    assert comparison.gold == "b"
    assert comparison.external_id == "xss-demo-1"
    assert comparison.prompt_source == "workbench-demo"


# --- Workbench format -----------------------------------------------------------------------------


def test_it_turns_a_string_prompt_into_one_user_message():
    _, [comparison] = parse_import(jsonl(pair()), file_name="pairs.jsonl")

    assert comparison.prompt_messages == [{"role": "user", "content": "What is 2 + 2?"}]
    assert comparison.response_a == ParsedResponse(text="4", model="", generation={})
    assert (comparison.gold, comparison.metadata, comparison.external_id, comparison.prompt_source) == ("", {}, "", "")


def test_it_reads_every_workbench_field():
    record = pair(
        prompt=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "What is 2 + 2?"},
        ],
        response_a={"text": "4", "model": "m1", "generation": {"temperature": 0.7}},
        gold="tie",
        metadata={"batch": 7},
        id=12,
        source="arith",
    )
    _, [comparison] = parse_import(jsonl(record), file_name="pairs.jsonl")

    assert [m["role"] for m in comparison.prompt_messages] == ["system", "user", "assistant", "user"]
    assert comparison.response_a == ParsedResponse(text="4", model="m1", generation={"temperature": 0.7})
    assert (comparison.gold, comparison.metadata, comparison.external_id, comparison.prompt_source) == (
        "tie", {"batch": 7}, "12", "arith"
    )


def test_it_reads_gzip_input():
    plain = (FIXTURES / "hh_rlhf_demo.jsonl").read_bytes()

    assert parse_import(gzip.compress(plain), file_name="hh.jsonl.gz") == parse_import(plain, file_name="hh.jsonl")


def test_it_gives_the_same_pair_the_same_hash():
    _, [first] = parse_import(jsonl(pair(id="x", metadata={"k": 1})), file_name="one.jsonl")
    _, [again] = parse_import(jsonl(pair(gold="a")), file_name="two.jsonl")
    _, [other_model] = parse_import(jsonl(pair(response_a={"text": "4", "model": "m"})), file_name="three.jsonl")

    assert first.content_hash == again.content_hash
    assert len(first.content_hash) == 64
    assert other_model.content_hash != first.content_hash


@pytest.mark.parametrize("name", ["hh_rlhf_demo.jsonl", "llmfao_demo.jsonl", "xss_demo.jsonl", "hh_rlhf_real_edge_cases.jsonl"])
def test_it_hashes_prompts_responses_and_pairs_by_their_canonical_json(name):
    reader = ImportReader((FIXTURES / name).read_bytes(), file_name=name)
    comparisons = [item for item in reader if not isinstance(item, RecordProblem)]  # the edge cases hold invalid lines

    assert comparisons
    for c in comparisons:
        a, b = c.response_a, c.response_b
        assert c.prompt_hash == canonical_hash({"messages": c.prompt_messages})
        assert (c.response_a_hash, c.response_b_hash) == (
            canonical_hash({"text": a.text, "model": a.model}), canonical_hash({"text": b.text, "model": b.model}))
        assert c.content_hash == canonical_hash({"prompt": c.prompt_messages, "response_a": {"text": a.text, "model": a.model},
                                                 "response_b": {"text": b.text, "model": b.model}})


@pytest.mark.parametrize("text", ['"quoted" \\ back\\slash', "tab\there\r\nline", "\x01\x1f\x7f\x85", "\u2028\u2029 é 漢字 \U0001F600",
                                  "</script>", "\ufeff\u200b", "'\u00a0'"])
def test_it_hashes_unusual_characters_as_the_canonical_json_does(text):
    record = pair(prompt=[{"role": "system", "content": text}, {"content": text + "?", "role": "user"}],
                  response_a={"text": text, "model": text}, response_b={"text": text + "!"})
    _, [c] = parse_import(jsonl(record), file_name="pairs.jsonl")

    assert c.prompt_hash == canonical_hash({"messages": c.prompt_messages})
    assert c.response_a_hash == canonical_hash({"text": text, "model": text})
    assert c.content_hash == canonical_hash({"prompt": c.prompt_messages, "response_a": {"text": text, "model": text},
                                             "response_b": {"text": text + "!", "model": ""}})


def test_it_gives_a_reimported_hh_file_the_same_order_and_hashes():
    data = (FIXTURES / "hh_rlhf_demo.jsonl").read_bytes()
    _, first = parse_import(data, file_name="hh.jsonl")
    _, again = parse_import(data, file_name="hh.jsonl")

    assert [(c.content_hash, c.gold) for c in first] == [(c.content_hash, c.gold) for c in again]


def test_it_drops_repeated_pairs_within_a_file():
    parsed = parse_import_detailed(jsonl(pair(id="1"), pair(response_b="3"), pair(id="2")), file_name="pairs.jsonl")

    assert [c.external_id for c in parsed.comparisons] == ["1", ""]
    assert parsed.duplicates_in_file == 1


def test_it_skips_blank_lines_but_counts_them():
    data = b"\n" + jsonl(pair()) + b"   \r\n\n" + jsonl(pair(response_b="3"))

    _, comparisons = parse_import(data, file_name="pairs.jsonl")

    assert [c.line for c in comparisons] == [2, 5]


def test_it_accepts_a_byte_order_mark_and_crlf_line_ends():
    data = b"\xef\xbb\xbf" + jsonl(pair()).replace(b"\n", b"\r\n")

    assert len(parse_import(data, file_name="pairs.jsonl")[1]) == 1


# --- Errors ---------------------------------------------------------------------------------------


def test_it_names_file_line_and_field_in_errors():
    error = parse_error(jsonl(pair(), pair(response_b="3"), pair(response_a={"text": 5})))

    assert str(error) == "pairs.jsonl: line 3: field 'response_a.text': expected a string, got number"
    assert (error.file_name, error.line, error.field) == ("pairs.jsonl", 3, "response_a.text")
    assert error.message == "expected a string, got number"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"prompt": "Hi", "response_a": "a"}, "field 'response_b': required field is missing"),
        ({"response_a": "a", "response_b": "b"}, "field 'prompt': required field is missing"),
        (pair(response_b=["b"]), "field 'response_b': expected a string or an object with 'text', got array"),
        (pair(response_a={"model": "m"}), "field 'response_a.text': required field is missing"),
        (pair(response_a="  \n"), "field 'response_a': must not be empty"),
        (pair(prompt=""), "field 'prompt': must not be empty"),
        (pair(prompt=[]), "field 'prompt': must hold at least one message"),
        (pair(prompt=7), "field 'prompt': expected a string or an array of messages, got number"),
        (pair(prompt=[{"role": "human", "content": "Hi"}]), "field 'prompt[0].role': expected 'user', 'assistant' or 'system', got 'human'"),
        (pair(prompt=[{"role": "user"}]), "field 'prompt[0].content': required field is missing"),
        (pair(prompt=["Hi"]), "field 'prompt[0]': expected an object with 'role' and 'content', got string"),
        (
            pair(prompt=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]),
            "field 'prompt': the last message must be a user turn, got 'assistant'",
        ),
        (pair(gold="A"), "field 'gold': expected 'a', 'b', 'tie' or null, got 'A'"),
        (pair(gold=1), "field 'gold': expected 'a', 'b', 'tie' or null, got number"),
        (pair(metadata=[1]), "field 'metadata': expected an object, got array"),
        (pair(response_a={"text": "4", "generation": "hot"}), "field 'response_a.generation': expected an object, got string"),
        (pair(response_a={"text": "4", "model": 3.5}), "field 'response_a.model': expected a string, got number"),
        (pair(id="x" * 201), "field 'id': 201 characters, the limit is 200"),
        (pair(golds="a"), "field 'golds': unknown field; expected one of prompt, response_a, response_b, gold, metadata, id, source (put extra data under 'metadata')"),
        (pair(response_a={"text": "4", "score": 1}), "field 'response_a.score': unknown field; expected one of text, model, generation"),
        ({"question": "Hi", "answer": "Ho"}, "unrecognised record: expected the workbench keys"),
        (pair(response_a="bad\u0000byte"), "field 'response_a': contains a NUL character or an unpaired surrogate"),
    ],
)
def test_it_rejects_a_bad_workbench_record(record, expected):
    error = parse_error(jsonl(pair(), record))

    assert str(error).startswith(f"pairs.jsonl: line 2: {expected}")


@pytest.mark.parametrize(("line", "field"), [
    (rb'{"prompt": "Hi", "response_a": "a\u0000b", "response_b": "c"}', "response_a"),
    (rb'{"prompt": "Hi", "response_a": "a", "response_b": {"text": "\uD800"}}', "response_b.text"),
    (rb'{"prompt": "Hi", "response_a": "a", "response_b": "c", "metadata": {"k": ["x", "\udfff"]}}', "metadata.k[1]"),
    (rb'{"prompt": "Hi", "response_a": "a", "response_b": "c", "metadata": {"\ud83d": 1}}', "metadata"),
])
def test_it_rejects_nul_and_unpaired_surrogates_written_as_escapes(line, field):
    error = parse_error(line + b"\n")

    assert (error.line, error.field) == (1, field)
    assert "contains a NUL character or an unpaired surrogate" in str(error)


def test_it_accepts_escapes_that_only_look_like_nul_or_surrogates():
    # An escaped backslash before "u0000", and a surrogate pair (an emoji), are ordinary text.
    line = rb'{"prompt": "Hi \\u0000", "response_a": "\ud83d\ude00", "response_b": "\u00e9"}' + b"\n"

    _, [comparison] = parse_import(line, file_name="pairs.jsonl")

    assert comparison.prompt_messages[0]["content"] == "Hi \\u0000"
    assert (comparison.response_a.text, comparison.response_b.text) == ("\U0001F600", "\u00e9")


def test_it_limits_text_size():
    error = parse_error(jsonl(pair(response_a={"text": "x" * 123_456})))

    assert str(error) == "pairs.jsonl: line 1: field 'response_a.text': 123456 characters, the limit is 100000"


def test_it_takes_the_size_limit_as_an_argument():
    data = jsonl(pair(prompt=[{"role": "user", "content": "y" * 11}]))

    assert parse_import(data, file_name="p.jsonl", max_text_chars=11)[1]
    assert parse_error(data, max_text_chars=10).field == "prompt[0].content"


def test_it_names_the_line_with_invalid_utf8():
    data = jsonl(pair()) + b'{"prompt": "caf\xe9", "response_a": "a", "response_b": "b"}\n'

    error = parse_error(data)

    assert str(error) == "pairs.jsonl: line 2: invalid UTF-8 at byte 16 of the line"


def test_it_rejects_invalid_json():
    error = parse_error(jsonl(pair()) + b'{"prompt": "Hi",}\n')

    assert str(error).startswith("pairs.jsonl: line 2: invalid JSON: ")
    assert error.line == 2


def test_it_rejects_nan_which_is_not_json():
    error = parse_error(b'{"prompt": "Hi", "response_a": "a", "response_b": "b", "metadata": {"score": NaN}}\n')

    assert str(error) == "pairs.jsonl: line 1: invalid JSON: NaN is not allowed"


def test_it_rejects_a_line_that_is_not_an_object():
    error = parse_error(b'[{"prompt": "Hi"}]\n')

    assert str(error).startswith("pairs.jsonl: line 1: expected a JSON object, got array")


@pytest.mark.parametrize("data", [b"", b"\n  \n\r\n", gzip.compress(b"")])
def test_it_rejects_a_file_without_records(data):
    error = parse_error(data)

    assert str(error) == "pairs.jsonl: no records: the file is empty or holds only blank lines"
    assert error.line is None


def test_it_rejects_a_broken_gzip_file():
    error = parse_error(gzip.compress(jsonl(pair()))[:-12])

    assert str(error).startswith("pairs.jsonl: not a valid gzip file")


def test_it_rejects_mixed_formats():
    data = jsonl(pair(), hh())

    error = parse_error(data)

    assert str(error) == (
        "pairs.jsonl: line 2: this record is in the 'hh-rlhf' format, but line 1 is in the 'workbench' format; "
        "a file may not mix formats"
    )


# --- HH-RLHF edge cases ---------------------------------------------------------------------------


def test_it_splits_hh_transcripts_into_turns():
    prompt = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman:  What is 2 + 2?"
    _, [comparison] = parse_import(jsonl(hh(prompt=prompt, source_line=3)), file_name="hh.jsonl")

    assert comparison.prompt_messages == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2 + 2?"},
    ]
    assert {comparison.response_a.text, comparison.response_b.text} == {"Four.", "Five."}
    assert comparison.metadata == {"source_line": 3}


def test_it_reads_a_transcript_whose_first_turn_has_no_blank_lines_before_it():
    _, [comparison] = parse_import(jsonl({"chosen": "Human: Hi\n\nAssistant: A", "rejected": "Human: Hi\n\nAssistant: B"}),
                                   file_name="hh.jsonl")

    assert comparison.prompt_messages == [{"role": "user", "content": "Hi"}]
    assert {comparison.response_a.text, comparison.response_b.text} == {"A", "B"}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"chosen": "\nHuman: Hi\n\nAssistant: A", "rejected": "\nHuman: Hi\n\nAssistant: B"}, "field 'chosen': expected a transcript of"),
        (hh(rejected_reply="Four."), "field 'rejected': 'chosen' and 'rejected' are identical"),
        (
            {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello", "rejected": "\n\nHuman: Hey\n\nAssistant: Hello"},
            "field 'rejected': 'chosen' and 'rejected' must share every turn but the final Assistant turn",
        ),
        (
            {"chosen": "\n\nHuman: Hi\n\nAssistant: A\n\nHuman: B\n\nAssistant: C", "rejected": "\n\nHuman: Hi\n\nAssistant: D"},
            "field 'rejected': 'chosen' and 'rejected' must share every turn but the final Assistant turn",
        ),
        (
            # One transcript goes on past the other (published lines do this): the histories differ.
            {"chosen": "\n\nHuman: Hi\n\nAssistant: A", "rejected": "\n\nHuman: Hi\n\nAssistant: A\n\nHuman: More?"},
            "field 'rejected': 'chosen' and 'rejected' must share every turn but the final Assistant turn; "
            "their histories differ from turn 3 (2 and 3 turns)",
        ),
        (
            {"chosen": "\n\nHuman: Hi\n\nAssistant: A\n\nHuman: B", "rejected": "\n\nHuman: Hi\n\nAssistant: A\n\nHuman: C"},
            "field 'chosen': the transcript must end with an Assistant turn",
        ),
        ({"chosen": "Hello there", "rejected": "\n\nHuman: Hi\n\nAssistant: A"}, "field 'chosen': expected a transcript of"),
        ({"chosen": "\n\nHuman: Hi\n\nAssistant: A"}, "field 'rejected': required field is missing"),
        ({"chosen": 1, "rejected": "x"}, "field 'chosen': expected a string, got number"),
        (hh(prompt="\n\nHuman:  "), "field 'chosen (turn 1)': must not be empty"),
        (hh(prompt="\n\nHuman: Hi\n\nAssistant: Hello"), "field 'chosen': the last message must be a user turn"),
    ],
)
def test_it_rejects_a_bad_hh_record(record, expected):
    error = parse_error(jsonl(hh(), record))

    assert str(error).startswith(f"pairs.jsonl: line 2: {expected}")


def test_it_limits_the_size_of_each_hh_turn():
    error = parse_error(jsonl(hh(rejected_reply="x" * 101)), max_text_chars=100)

    assert str(error) == "pairs.jsonl: line 1: field 'rejected (final turn)': 101 characters, the limit is 100"


def test_it_rejects_a_bad_llmfao_record():
    record = json.loads((FIXTURES / "llmfao_demo.jsonl").read_bytes().splitlines()[0])
    del record["model_y"]

    error = parse_error(jsonl(record))

    assert str(error) == "pairs.jsonl: line 1: field 'model_y': required field is missing"


# --- Boundaries -----------------------------------------------------------------------------------


def test_it_imports_no_django():
    code = "import sys, prefkit.formats; assert 'django' not in sys.modules and 'webapp' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
