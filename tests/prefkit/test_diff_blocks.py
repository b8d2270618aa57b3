"""The block diff behind the rendered guideline diff: a pure function, tested without a database."""
from prefkit.diff import BlockRow, diff_blocks, markdown_blocks


def test_it_splits_markdown_at_blank_lines():
    assert markdown_blocks("# Title\n\nFirst para\nstill first.\n\n\n- a\n- b\n") == [
        "# Title", "First para\nstill first.", "- a\n- b"]


def test_it_keeps_a_fenced_code_block_with_blank_lines_whole():
    text = "Intro\n\n```python\nx = 1\n\ny = 2\n```\n\n~~~\n\n~~~\nAfter"
    assert markdown_blocks(text) == ["Intro", "```python\nx = 1\n\ny = 2\n```", "~~~\n\n~~~\nAfter"]


def test_it_shows_a_changed_block_as_removed_then_added_in_place():
    old = "# Rules\n\nPick the more helpful answer.\n\nBe kind."
    new = "# Rules\n\nPick the more helpful, correct answer.\n\nBe kind.\n\n- New rule"
    assert diff_blocks(old, new) == [
        BlockRow("equal", "# Rules"),
        BlockRow("delete", "Pick the more helpful answer."),
        BlockRow("insert", "Pick the more helpful, correct answer."),
        BlockRow("equal", "Be kind."),
        BlockRow("insert", "- New rule"),
    ]


def test_identical_texts_have_only_equal_blocks():
    assert {row.kind for row in diff_blocks("a\n\nb", "a\n\nb")} == {"equal"}

