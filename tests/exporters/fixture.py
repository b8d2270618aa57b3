"""A small hand-built selection, as the webapp would hand it over.

What the webapp has already done (so it is *absent* here, as it would be in a real export):
- rater "rater-excl" was excluded by the lead's filter: their judgments on comparisons 101 and 103
  are not passed in;
- judgment 10 (rater-1 on comparison 101) was superseded by judgment 11: only 11 is passed in.

What the exporters must handle:
- 101: multi-turn prompt with a system message; a(3), a(1), b(2)            -> a, 2/3
- 102: a, tie, tie                                                            -> a under --ties drop,
                                                                                 tie_won under keep
- 103: gold "b" quiz item, b b b                                              -> b, 3/3
- 104: same prompt as 102, a vs b                                             -> split_vote
- 105: both_bad, both_bad, a                                                  -> both_bad_won
- 106: re-queued (round 2): b in round 1, then a, a in round 2                -> a, 2/3
- 107: only ties                                                              -> no_votes_left (drop)
Scale: seven_point (strengths 1..3, tie allowed); margins 1/3, 2/3, 1.
"""
from exporters import ComparisonRecord, JudgmentRecord

SHA1 = "1" * 64
SHA2 = "2" * 64


def _c(cid, prompt_id, prompt, a, b, *, gold="", quiz=False, round=1, model_a="m-alpha", model_b="m-beta"):
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    return ComparisonRecord(comparison_id=cid, prompt_id=prompt_id, prompt_messages=messages, response_a=a,
                            response_b=b, model_a=model_a, model_b=model_b, gold=gold, is_quiz=quiz,
                            source="fixture", round=round)


def _j(jid, cid, rater, choice, strength=None, order="AB", *, version=1, sha=SHA1, origin="here", round=1,
       flags=()):
    return JudgmentRecord(judgment_id=jid, comparison_id=cid, rater=rater, origin=origin,
                          guideline_version=version, guideline_sha256=sha, choice=choice, strength=strength,
                          display_order=order, active_ms=1000 + jid, served_at=f"2026-01-01T00:{jid:02d}:00Z",
                          submitted_at=f"2026-01-01T00:{jid:02d}:30Z", flags=tuple(flags), round=round)


COMPARISONS = [
    _c(101, 1, [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello! How can I help?"},
                {"role": "user", "content": "Name a prime number."}],
       "7 is prime.", "Eight."),
    _c(102, 2, "What colour is the sky?", "Blue.", "Usually blue, red at sunset."),
    _c(103, 3, "2 + 2?", "5", "4", gold="b", quiz=True),
    _c(104, 2, "What colour is the sky?", "Grey in London.", "Blue."),
    _c(105, 4, "Write a haiku.", "No.", "I can't."),
    _c(106, 5, "Capital of France?", "Paris.", "Lyon.", round=2),
    _c(107, 6, "Pick one.", "A", "B"),
]

JUDGMENTS = {
    101: [_j(11, 101, "rater-1", "a", 3, "AB"), _j(12, 101, "rater-2", "a", 1, "BA"),
          _j(13, 101, "rater-3", "b", 2, "AB", flags=("fast",))],
    102: [_j(21, 102, "rater-1", "a", 2, "BA"), _j(22, 102, "rater-2", "tie", None, "AB"),
          _j(23, 102, "rater-3", "tie", None, "BA", version=2, sha=SHA2)],
    103: [_j(31, 103, "rater-1", "b", 3, "AB"), _j(32, 103, "rater-2", "b", 3, "BA"),
          _j(33, 103, "ext-9", "b", None, None, version=None, sha=None, origin="import")],
    104: [_j(41, 104, "rater-1", "a", 1, "AB"), _j(42, 104, "rater-2", "b", 1, "AB")],
    105: [_j(51, 105, "rater-1", "both_bad", None, "AB"), _j(52, 105, "rater-2", "both_bad", None, "BA"),
          _j(53, 105, "rater-3", "a", 2, "AB")],
    106: [_j(61, 106, "rater-1", "b", 1, "AB", round=1), _j(62, 106, "rater-2", "a", 2, "BA", round=2),
          _j(63, 106, "rater-3", "a", 3, "AB", round=2)],
    107: [_j(71, 107, "rater-1", "tie"), _j(72, 107, "rater-2", "tie")],
}


def groups():
    """The zero-argument callable write_export takes: (comparison, judgments) by comparison id."""
    return ((c, list(JUDGMENTS[c.comparison_id])) for c in COMPARISONS)
