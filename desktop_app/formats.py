"""Copy formats for a LaTeX string (pure functions)."""

from __future__ import annotations

import re

FORMAT_LABELS = {
    "raw": "LaTeX (raw)",
    "tidy": "LaTeX (tidy: \\mathcal{L}, no token spaces)",
    "inline": "$...$",
    "display": "$$...$$",
    "equation": "\\begin{equation}...\\end{equation}",
    "mathml": "MathML",
}


class FormatError(ValueError):
    pass


def format_latex(latex: str, fmt: str) -> str:
    s = latex.strip()
    if fmt == "raw":
        return s
    if fmt == "tidy":
        return tidy_latex(s)
    if fmt == "inline":
        return f"${s}$"
    if fmt == "display":
        return f"$${s}$$"
    if fmt == "equation":
        return f"\\begin{{equation}}\n{s}\n\\end{{equation}}"
    if fmt == "mathml":
        try:
            from latex2mathml.converter import convert
        except ImportError as exc:
            raise FormatError(
                "MathML needs the 'latex2mathml' package (pip install latex2mathml)"
            ) from exc
        try:
            return convert(s)
        except Exception as exc:  # latex2mathml raises assorted errors on odd input
            raise FormatError(f"Cannot convert to MathML: {exc}") from exc
    raise FormatError(f"Unknown copy format {fmt!r}")


# Old font switches at the start of a group -> the LaTeX2e command taking that group as argument.
MODERN_FONTS = {"\\cal": "\\mathcal", "\\bf": "\\mathbf", "\\rm": "\\mathrm", "\\it": "\\mathit",
                 "\\sf": "\\mathsf", "\\tt": "\\mathtt"}
_ENDS_IN_CONTROL_WORD = re.compile(r"\\[A-Za-z]+$")


def tidy_latex(latex: str) -> str:
    """The model's token-spaced LaTeX as a person writes it, same rendering: `{ \\cal L } ^ { 2 }` ->
    `\\mathcal{L}^{2}`. A space stays only where TeX needs it: after a control word followed by a
    letter (`\\alpha b`) and after a control space (`\\ `); what the user typed without spaces stays as it is."""
    tokens = latex.split()
    modern: list[str] = []
    for tok in tokens:
        if tok in MODERN_FONTS and modern and modern[-1] == "{":
            # `\mathrm { \bf B }`: the inner switch decides the font, so it replaces the outer command
            outer = len(modern) >= 2 and modern[-2] in MODERN_FONTS.values()
            modern[-2 if outer else -1 :] = [MODERN_FONTS[tok], "{"]
        else:
            modern.append(tok)
    while modern and modern[-1] == "\\":  # a control space at the very end draws nothing
        modern.pop()
    out = ""
    for tok in modern:
        control_space = out.endswith("\\") and not out.endswith("\\\\")
        if control_space or (_ENDS_IN_CONTROL_WORD.search(out) and tok[0].isalpha()):
            out += " "
        out += tok
    return out
