"""``python -m course.quiz check [folder]``: report every problem of every bank."""

from __future__ import annotations

import sys
from pathlib import Path

from course.quiz.bank import BankError, bank_files, load_all_banks


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check" or len(args) > 2:
        print("usage: python -m course.quiz check [FOLDER]", file=sys.stderr)
        return 2
    folder = Path(args[1]) if len(args) == 2 else None
    try:
        banks = load_all_banks(folder)
    except BankError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    n = sum(len(b.questions) for b in banks)
    print(f"{len(banks)} bank(s), {n} question(s): all valid ({len(bank_files(folder))} file(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
