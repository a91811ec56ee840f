"""The comment poster checks what the PR run's artifact gives it before posting."""

import pytest

from angler.review.github_comment import (
    MARKER,
    CommentError,
    check_body,
    check_pr_number,
    find_report_comment,
)


def test_only_the_bots_marked_comment_is_updated():
    comments = [
        {"id": 1, "user": {"type": "User"}, "body": MARKER + " a human quoting the marker"},
        {"id": 2, "user": {"type": "Bot"}, "body": "another bot"},
        {"id": 3, "user": {"type": "Bot"}, "body": MARKER + "\n## report"},
    ]
    assert find_report_comment(comments) == 3
    assert find_report_comment(comments[:2]) is None


@pytest.mark.parametrize("text", ["", "7; rm -rf /", "0", "-1", "12345678901", "../8"])
def test_pr_number_must_be_a_number(text):
    with pytest.raises(CommentError):
        check_pr_number(text)


def test_body_must_be_an_angler_report_within_the_limit():
    assert check_body(MARKER + "\nok") == MARKER + "\nok"
    with pytest.raises(CommentError, match="marker"):
        check_body("spam")
    with pytest.raises(CommentError, match="limit"):
        check_body(MARKER + "x" * 70_000)
