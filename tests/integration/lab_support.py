"""What the lab's integration tests share: wrong answers made from the solutions."""

import course_helpers as ch


def solution_with(number: int, old: str, new: str) -> str:
    """The text of exercise ``number``'s solution with one change (a wrong answer)."""
    text = str(ch.lab.solution(number))
    assert old in text, f"{old!r} is not in solution {number}"
    return text.replace(old, new)
