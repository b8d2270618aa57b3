"""The side-by-side diff of guideline texts: a pure function, tested without a database."""
from prefkit.diff import DiffRow, Part, diff_lines, diff_stats, inline_parts


def _plain(rows):
    return [(r.left_no, r.left_text, r.right_no, r.right_text, r.kind) for r in rows]


def test_it_pairs_equal_lines_with_their_numbers():
    assert _plain(diff_lines("a\nb\n", "a\nb")) == [(1, "a", 1, "a", "equal"), (2, "b", 2, "b", "equal")]


def test_it_marks_an_inserted_and_a_deleted_line():
    rows = diff_lines("keep\ngone\nend", "keep\nend\nnew")
    assert _plain(rows) == [
        (1, "keep", 1, "keep", "equal"),
        (2, "gone", None, "", "delete"),
        (3, "end", 2, "end", "equal"),
        (None, "", 3, "new", "insert"),
    ]
    assert diff_stats(rows) == {"added": 1, "removed": 1}


def test_it_pairs_changed_lines_and_spills_the_extra_ones():
    rows = diff_lines("x\nold one\nold two\ny", "x\nnew one\ny")
    assert _plain(rows) == [
        (1, "x", 1, "x", "equal"),
        (2, "old one", 2, "new one", "replace"),
        (3, "old two", None, "", "delete"),
        (4, "y", 3, "y", "equal"),
    ]
    assert diff_stats(rows) == {"added": 1, "removed": 2}


def test_it_highlights_only_the_words_that_changed_within_a_line():
    [row] = diff_lines("Pick the more helpful answer.", "Pick the most helpful answer.")
    assert row.kind == "replace"
    assert row.left_parts == (Part("Pick the ", False), Part("more", True), Part(" helpful answer.", False))
    assert row.right_parts == (Part("Pick the ", False), Part("most", True), Part(" helpful answer.", False))


def test_it_highlights_a_very_long_changed_line_whole():
    old, new = "a " * 1500, "b " * 1500
    assert inline_parts(old, new) == ((Part(old, True),), (Part(new, True),))


def test_it_handles_empty_texts_and_windows_line_endings():
    assert diff_lines("", "") == []
    assert _plain(diff_lines("", "one")) == [(None, "", 1, "one", "insert")]
    assert _plain(diff_lines("a\r\nb", "a\nb")) == [(1, "a", 1, "a", "equal"), (2, "b", 2, "b", "equal")]


def test_it_keeps_markup_as_plain_text():
    [row] = diff_lines("", "<script>alert(1)</script>")
    assert row == DiffRow(None, "", 1, "<script>alert(1)</script>", "insert")
    assert row.right_parts == (Part("<script>alert(1)</script>", True),)


def test_it_highlights_a_rewritten_line_whole():
    old, new = "Pick the more helpful answer.", "Prefer honest replies, always."
    assert inline_parts(old, new) == ((Part(old, True),), (Part(new, True),))
