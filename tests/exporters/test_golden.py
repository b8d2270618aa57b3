"""Golden rows: the exact output for the hand-built fixture (see fixture.py for what each comparison tests)."""
from tests.exporters.conftest import read_jsonl
from tests.exporters.fixture import COMPARISONS, JUDGMENTS

THIRD, TWO_THIRDS = 1 / 3, 2 / 3
P101 = ("System: Be brief.\n\nHuman: Hi\n\nAssistant: Hello! How can I help?\n\n"
        "Human: Name a prime number.\n\nAssistant:")
SKY = "Human: What colour is the sky?\n\nAssistant:"


def row(prompt, chosen, rejected, margin, agreement, cid, ids):
    return {"prompt": prompt, "chosen": " " + chosen, "rejected": " " + rejected, "margin": margin,
            "agreement": agreement, "comparison_id": cid, "judgment_ids": ids}


def test_majority_with_ties_dropped(export):
    folder, manifest = export(format="trl-standard", aggregate="majority", ties="drop")
    assert read_jsonl(folder / "train.jsonl") == [
        # a(strength 3 -> 1.0) and a(1 -> 1/3) beat b: margin is the backers' mean, agreement 2 of 3
        row(P101, "7 is prime.", "Eight.", TWO_THIRDS, TWO_THIRDS, 101, [11, 12, 13]),
        # the two ties are dropped first, so the lone a wins; only the counted vote is traced
        row(SKY, "Blue.", "Usually blue, red at sunset.", TWO_THIRDS, 1.0, 102, [21]),
        # gold/quiz item kept (the webapp filters those); the imported judgment has no strength: not in the mean
        row("Human: 2 + 2?\n\nAssistant:", "4", "5", 1.0, 1.0, 103, [31, 32, 33]),
        # 104 split 1-1, 105 both_bad won, 107 only ties: dropped and counted below
        # re-queued comparison: round-1 b and round-2 a, a all count (the webapp chose "all rounds")
        row("Human: Capital of France?\n\nAssistant:", "Paris.", "Lyon.", (2 / 3 + 1.0) / 2, TWO_THIRDS, 106,
            [61, 62, 63]),
    ]
    assert manifest["counts"] == {
        "comparisons_read": 7, "judgments_read": 19, "rows_written": 4, "rows": {"train": 4, "test": 0},
        "dropped_judgments": {"tie": 4},
        "dropped_comparisons": {"both_bad_won": 1, "no_votes_left": 1, "split_vote": 1},
    }


def test_majority_with_ties_kept_as_votes(export):
    folder, manifest = export(format="trl-standard", aggregate="majority", ties="keep")
    assert [r["comparison_id"] for r in read_jsonl(folder / "train.jsonl")] == [101, 103, 106]
    assert manifest["counts"]["dropped_judgments"] == {}
    # 102 (a, tie, tie) and 107 (tie, tie) are now won by the tie
    assert manifest["counts"]["dropped_comparisons"] == {"both_bad_won": 1, "split_vote": 1, "tie_won": 2}


def test_dawid_skene(export):
    folder, manifest = export(format="trl-standard", aggregate="dawid-skene", ties="drop")
    rows = read_jsonl(folder / "train.jsonl")
    # Dawid-Skene trusts rater-1 (agrees with everyone on 103, alone on 102), so it breaks the 104 split
    # and overturns 106 for rater-1's b; agreement stays the plain vote share, so the disagreement shows
    assert [(r["comparison_id"], r["chosen"], r["agreement"]) for r in rows] == [
        (101, " 7 is prime.", TWO_THIRDS), (102, " Blue.", 1.0), (103, " 4", 1.0),
        (104, " Grey in London.", 0.5), (106, " Lyon.", THIRD)]
    assert rows[4]["margin"] == THIRD  # the backer (rater-1) gave strength 1
    assert manifest["counts"]["dropped_comparisons"] == {"both_bad_won": 1, "no_votes_left": 1}


def test_one_row_per_judgment(export):
    folder, manifest = export(format="trl-conversational", aggregate="none", ties="drop")
    rows = read_jsonl(folder / "train.jsonl")
    assert [(r["judgment_ids"], r["chosen"][0]["content"], r["margin"], r["agreement"]) for r in rows] == [
        ([11], "7 is prime.", 1.0, TWO_THIRDS), ([12], "7 is prime.", THIRD, TWO_THIRDS),
        ([13], "Eight.", TWO_THIRDS, THIRD),
        ([21], "Blue.", TWO_THIRDS, 1.0),
        ([31], "4", 1.0, 1.0), ([32], "4", 1.0, 1.0), ([33], "4", 0.0, 1.0),
        ([41], "Grey in London.", THIRD, 0.5), ([42], "Blue.", THIRD, 0.5),
        ([53], "No.", TWO_THIRDS, THIRD),
        ([61], "Lyon.", THIRD, THIRD), ([62], "Paris.", TWO_THIRDS, TWO_THIRDS), ([63], "Paris.", 1.0, TWO_THIRDS),
    ]
    assert rows[0]["prompt"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": "Hello! How can I help?"},
                                 {"role": "user", "content": "Name a prime number."}]
    assert rows[0]["rejected"] == [{"role": "assistant", "content": "Eight."}]
    assert manifest["counts"]["dropped_judgments"] == {"both_bad": 2, "tie": 4}


def test_implicit_transcripts(export):
    folder, _ = export(format="trl-implicit", aggregate="majority")
    first = read_jsonl(folder / "train.jsonl")[0]
    assert first["chosen"] == P101 + " 7 is prime."
    assert first["rejected"] == P101 + " Eight."
    assert "prompt" not in first


def test_raw_keeps_every_judgment_with_its_provenance(export):
    folder, manifest = export(format="raw", aggregate="none", ties="keep")
    rows = read_jsonl(folder / "train.jsonl")
    assert [r["judgment_id"] for r in rows] == [11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 51, 52, 53, 61, 62, 63,
                                                71, 72]
    assert rows[0] == {
        "judgment_id": 11, "comparison_id": 101, "prompt_id": 1, "origin": "here", "rater": "rater-1",
        "guideline_version": 1, "guideline_sha256": "1" * 64, "display_order": "AB", "choice": "a", "strength": 3,
        "margin": 1.0, "agreement": TWO_THIRDS, "active_ms": 1011, "served_at": "2026-01-01T00:11:00Z",
        "submitted_at": "2026-01-01T00:11:30Z", "gold": "", "is_gold": False, "is_quiz": False, "flags": [],
        "repeat": False, "round": 1, "comparison_round": 1, "model_a": "m-alpha", "model_b": "m-beta",
        "source": "fixture",
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello! How can I help?"},
                   {"role": "user", "content": "Name a prime number."}],
        "response_a": "7 is prime.", "response_b": "Eight.",
    }
    by_id = {r["judgment_id"]: r for r in rows}
    assert by_id[13]["flags"] == ["fast"]
    assert (by_id[23]["choice"], by_id[23]["margin"], by_id[23]["guideline_version"]) == ("tie", None, 2)
    assert (by_id[33]["origin"], by_id[33]["rater"], by_id[33]["guideline_sha256"]) == ("import", "ext-9", None)
    assert (by_id[33]["is_gold"], by_id[33]["gold"], by_id[33]["is_quiz"]) == (True, "b", True)
    assert (by_id[61]["round"], by_id[62]["round"], by_id[62]["comparison_round"]) == (1, 2, 2)
    assert by_id[51]["choice"] == "both_bad" and by_id[51]["margin"] is None  # kept in raw: it is the record
    assert "rater-excl" not in {r["rater"] for r in rows} and 10 not in by_id  # excluded / superseded: absent
    assert manifest["counts"]["rows_written"] == 19


def test_raw_with_ties_dropped(export):
    folder, manifest = export(format="raw", aggregate="none", ties="drop")
    assert {r["choice"] for r in read_jsonl(folder / "train.jsonl")} == {"a", "b", "both_bad"}
    assert manifest["counts"]["dropped_judgments"] == {"tie": 4}


def test_margins_are_configurable(export):
    folder, manifest = export(format="trl-standard", aggregate="majority", margins={1: 0.0, 2: 1.0, 3: 2.0})
    assert [r["margin"] for r in read_jsonl(folder / "train.jsonl")] == [1.0, 1.0, 2.0, 1.5]
    assert manifest["margins"] == {"mapping": {"1": 0.0, "2": 1.0, "3": 2.0}, "no_strength": 0.0, "default": False}


def _with_a_consistency_repeat():
    """Comparison 104 (a vs b: a split vote) plus rater-1's repeat of it, now choosing b."""
    first = JUDGMENTS[104][0]
    repeat = first._replace(judgment_id=44, choice="a" if first.choice == "b" else "b", repeat=True,
                            display_order="BA" if first.display_order == "AB" else "AB")
    return [(c, JUDGMENTS[c.comparison_id] + [repeat] if c.comparison_id == 104 else JUDGMENTS[c.comparison_id])
            for c in COMPARISONS]


def test_aggregating_counts_a_rater_once_when_their_consistency_repeat_is_exported(export):
    selection = _with_a_consistency_repeat
    for aggregate in ("majority", "dawid-skene"):
        folder, manifest = export(format="trl-standard", aggregate=aggregate, groups_fn=selection)
        plain_folder, plain = export(format="trl-standard", aggregate=aggregate)
        assert read_jsonl(folder / "train.jsonl") == read_jsonl(plain_folder / "train.jsonl"), aggregate
        assert manifest["counts"]["dropped_judgments"] == {**plain["counts"]["dropped_judgments"], "repeat": 1}
        assert manifest["counts"]["dropped_comparisons"] == plain["counts"]["dropped_comparisons"]
        assert manifest["agreement"] == plain["agreement"]
    raw_folder, _ = export(format="raw", aggregate="none", groups_fn=selection)
    rows = {r["judgment_id"]: r for r in read_jsonl(raw_folder / "train.jsonl")}
    assert rows[44]["repeat"] is True and rows[41]["repeat"] is False  # kept as rows of their own, marked
    assert rows[41]["agreement"] == rows[42]["agreement"] == rows[44]["agreement"] == 0.5  # of 2 raters' votes


def test_a_repeat_row_whose_raters_only_vote_was_a_dropped_tie_has_no_agreement(export):
    tie = JUDGMENTS[107][0]  # comparison 107: only ties
    repeat = tie._replace(judgment_id=74, choice="a", repeat=True)
    selection = lambda: [(c, [tie, repeat]) for c in COMPARISONS if c.comparison_id == 107]  # noqa: E731
    folder, manifest = export(format="raw", aggregate="none", ties="drop", groups_fn=selection)
    (row,) = read_jsonl(folder / "train.jsonl")
    assert (row["judgment_id"], row["repeat"], row["agreement"]) == (74, True, None)
    assert manifest["counts"]["dropped_judgments"] == {"tie": 1}
