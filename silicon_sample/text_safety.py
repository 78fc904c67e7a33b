"""Text from models, servers and other people's files made safe to show: on a terminal and in a spreadsheet.

Two hazards, each with one function:

- **Terminal escapes.** A model's raw text, a persona value or a file name can hold ESC/OSC/CSI sequences
  (clear the screen, set the window title, plant a hyperlink) or bidirectional overrides that make text
  read differently than it is. :func:`visible` writes every control character as an escape (``\\x1b``,
  ``\\u202e``) so it is seen, not obeyed.
- **Spreadsheet formulas.** A CSV cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  is run as a formula by Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``).
  :func:`formula_safe` prefixes such a text cell with a single quote, as OWASP's CSV-injection guidance
  recommends (https://owasp.org/www-community/attacks/CSV_Injection); numbers are never changed.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_lines: bool = True) -> str:
    """``text`` with every control character written as an escape; newlines and tabs are kept when
    ``keep_lines`` (a model's multi-line answer), escaped otherwise (a one-line message)."""
    return (_CONTROL if keep_lines else _CONTROL_AND_LINES).sub(_escape, str(text))


def formula_safe(value):
    """A text value that a spreadsheet would run as a formula, prefixed with ``'``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value
