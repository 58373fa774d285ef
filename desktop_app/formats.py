"""Copy formats for a LaTeX string (pure functions)."""

from __future__ import annotations

FORMAT_LABELS = {
    "raw": "LaTeX (raw)",
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
