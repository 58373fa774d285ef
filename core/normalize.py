"""Tokenize LaTeX and normalize raw formulas into the im2latex-100k token form.

im2latex-100k formulas were KaTeX-parsed and re-serialized (harvardnlp/im2markup).  The
conventions below were read off the genuine normalized val/test formulas and the official
raw -> normalized sample pairs:

* tokens are separated by single spaces; every letter and digit is its own token
  (``\\mathrm { d i a g }``, ``1 4 4 0``); ``--`` and ``---`` stay one token;
* script and command arguments always get braces: ``x ^ { 2 }``, ``\\frac { 1 } { 2 }``,
  ``\\hat { a }``, ``\\sqrt { x }``; a base's subscript comes before its superscript
  (``x ^ { c } _ { \\mu }`` -> ``x _ { \\mu } ^ { c }``);
* primes become superscripts: ``\\phi''`` -> ``\\phi ^ { \\prime \\prime }``,
  ``A'^2`` -> ``A ^ { \\prime 2 }`` (a ``'`` that starts a group stays ``'``);
* ``{a \\over b}`` -> ``{ \\frac { a } { b } }``, ``{n \\choose k}`` -> ``{ \\binom { n } { k } }``
  (``\\atop`` is kept infix, as im2latex does);
* ``\\rm`` switches the rest of its group to ``\\mathrm { .. }``; a group that starts with
  ``\\rm`` loses its braces (``{\\rm const.}`` -> ``\\mathrm { c o n s t . }``).  The other
  old-style switches ``\\bf \\it \\cal \\sf \\tt \\sl \\em \\mit \\boldmath`` are kept as they are
  (``{\\cal L}`` -> ``{ \\cal L }``), as are ``\\displaystyle`` and friends;
* ``\\left(`` / ``\\right\\}`` are one token each (``\\left`` + its delimiter);
* named functions become ``\\operatorname { s i n }``; those with limits (``\\lim \\det \\max
  \\min \\sup \\inf \\limsup \\liminf \\gcd \\Pr``) ``\\operatorname* { l i m }``;
* arrays: ``\\begin{array} { c c } { a } & { b } \\\\ { c } & { d } \\\\ \\end{array}``, every
  cell in braces and every row (the last one too) ended by ``\\\\``; ``\\hline`` goes into the
  first cell of its row;
* a script with no base (``{ ^ \\dagger }``, ``_ { _ R }``) is kept exactly as written;
* the control space ``\\ `` is the single-character token ``\\``.

im2latex itself left some arguments unbraced (``\\frac 1 2``, ``\\mathbf k``, ~4% of val/test);
this module always braces them, which is most of what keeps the round-trip rate below 100%.

Mapped (raw command -> im2latex form; the meaning is kept):

* ``\\dfrac \\tfrac \\cfrac`` -> ``\\frac``; ``\\dbinom \\tbinom`` -> ``\\binom``;
  ``\\overset`` -> ``\\stackrel``;
* text commands, their argument read in text mode (spaces become ``~``, ``$..$`` inside is
  parsed as math, ``'`` stays literal), as im2latex has ``\\mathrm { f o r ~ }``:
  ``\\text \\mbox \\hbox \\textnormal \\textrm \\textup \\textmd \\textsc`` -> ``\\mathrm``,
  ``\\textit \\textsl \\emph`` -> ``\\mathit``, ``\\textbf`` -> ``\\mathbf``, ``\\textsf`` ->
  ``\\mathsf``, ``\\texttt`` -> ``\\mathtt``.  An argument that is already space-separated single
  tokens (im2latex's ``\\textrm { f o r }``) is read as math, so normalizing is idempotent;
* ``\\boldsymbol \\bm \\pmb \\bold`` -> ``\\mathbf``; ``\\Bbb`` -> ``\\mathbb``;
* ``\\sin \\cos \\exp \\log \\ln ...`` -> ``\\operatorname { .. }`` / ``\\operatorname* { .. }``;
* ``\\lvert \\rvert`` -> ``|``, ``\\lVert \\rVert`` -> ``\\|``, ``\\>`` -> ``\\:``,
  ``\\iff`` -> ``\\Longleftrightarrow``, ``\\implies`` -> ``\\Longrightarrow``,
  ``\\impliedby`` -> ``\\Longleftarrow``, ``\\gets`` -> ``\\leftarrow``, ``\\lor`` -> ``\\vee``,
  ``\\leqslant \\geqslant`` -> ``\\leq \\geq``, ``\\dotsc \\dotso`` -> ``\\ldots``,
  ``\\dotsb \\dotsm \\dotsi`` -> ``\\cdots``, ``\\varnothing`` -> ``\\emptyset``;
* ``\\xrightarrow{f}`` -> ``\\stackrel { f } { \\longrightarrow }`` (``\\xleftarrow`` likewise);
  ``\\substack{a \\\\ b}`` -> ``\\begin{array} { c } { a } \\\\ { b } \\\\ \\end{array}``;
* environments: ``matrix smallmatrix`` -> ``array`` with ``c`` columns; ``pmatrix bmatrix
  Bmatrix vmatrix Vmatrix`` -> the same inside ``\\left( .. \\right)`` etc.; ``cases dcases``
  -> ``\\left\\{ \\begin{array} { l l } .. \\end{array} \\right.``; ``aligned align align*
  split alignat flalign`` (+ starred) -> array ``{ r l r l .. }``; ``eqnarray`` -> ``{ r c l }``;
  ``gather gathered multline`` -> ``{ c }``; ``equation displaymath math`` are unwrapped.

Kept as they are (im2latex has them, or has no equivalent): ``\\to \\le \\ge \\neq \\ne
\\lbrace \\{ \\dots \\ldots \\mathbb \\mathcal \\mathbf \\mathsf \\mathfrak \\mathscr
\\operatorname \\bf \\cal`` and every command not listed here (custom macros pass through).

Dropped: ``%`` comments, ``\\label{..} \\tag{..} \\nonumber \\notag \\limits \\nolimits``,
``\\color{..}``, the first argument of ``\\textcolor``, an optional ``[..]`` after ``\\\\``,
surrounding ``$ $``, ``$$ $$``, ``\\[ \\]``, ``\\( \\)``.

Rejected (``normalize_latex`` returns ``None``): unbalanced braces or ``\\left``/``\\right``,
unknown environments, ``\\\\`` or ``&`` outside an environment, double super/subscripts,
macro definitions (``\\def \\newcommand ..``), ``#``, a stray ``$``, an empty result.

``\\sqrt[n]{x}`` becomes ``\\sqrt [ n ] { x }`` (im2latex's own normalizer broke on it and
wrote ``[object Object]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["tokenize_latex", "normalize_latex", "normalize_is_identity_rate", "is_one_group", "group_end"]

_LEX = re.compile(
    r"%[^\n]*"  # comment
    r"|\\(?:begin|end)\s*\{\s*[A-Za-z]+\*?\s*\}"  # \begin{name} / \end{name}
    r"|\\operatorname\*"
    r"|\\[A-Za-z]+"  # control word
    r"|\\(?:\s|$)"  # control space -> token "\"
    r"|\\."  # control symbol
    r"|---|--"
    r"|\s+"
    r"|.",
    re.DOTALL,
)
_WS = " "  # the lexer's whitespace marker (only text mode looks at it)


def _lex(text: str) -> list[str]:
    """All tokens, whitespace runs as ``" "``; comments dropped."""
    out: list[str] = []
    for m in _LEX.finditer(text):
        tok = m.group()
        c0 = tok[0]
        if c0 == "%":
            continue
        if c0 == "\\":
            if len(tok) == 1 or tok[1].isspace():
                tok = "\\"
            elif tok[1:4] in ("beg", "end") and "{" in tok:
                tok = re.sub(r"\s+", "", tok)
        elif c0.isspace():
            tok = _WS
        out.append(tok)
    return out


def tokenize_latex(text: str) -> list[str]:
    """Split LaTeX into im2latex-style tokens.

    ``\\command`` (letters), ``\\`` + one non-letter (``\\,`` ``\\{`` ``\\\\``), single characters
    (each letter/digit its own token), ``--``/``---``; whitespace and ``%`` comments are dropped.
    ``\\begin{name}``, ``\\end{name}``, ``\\operatorname*`` and ``\\left``/``\\right`` + delimiter
    are one token each; a control space ``\\ `` is the token ``\\``.  For a normalized formula
    ``f``, ``tokenize_latex(f) == f.split(" ")``.
    """
    toks = [t for t in _lex(text) if t != _WS]
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("\\left", "\\right") and i + 1 < len(toks):
            out.append(t + toks[i + 1])
            i += 2
            continue
        out.append(t)
        i += 1
    return out


class _Fail(Exception):
    """The formula cannot be normalized."""


_ONE_ARG = frozenset(
    [
        r"\hat",
        r"\bar",
        r"\tilde",
        r"\vec",
        r"\dot",
        r"\ddot",
        r"\dddot",
        r"\check",
        r"\breve",
        r"\acute",
        r"\grave",
        r"\widetilde",
        r"\widehat",
        r"\overline",
        r"\underline",
        r"\overbrace",
        r"\underbrace",
        r"\overrightarrow",
        r"\overleftarrow",
        r"\overleftrightarrow",
        r"\underrightarrow",
        r"\underleftarrow",
        r"\mathring",
        r"\mathrm",
        r"\mathbf",
        r"\mathcal",
        r"\mathit",
        r"\mathsf",
        r"\mathtt",
        r"\mathbb",
        r"\mathfrak",
        r"\mathscr",
        r"\mathnormal",
        r"\operatorname",
        r"\operatorname*",
        r"\phantom",
        r"\vphantom",
        r"\hphantom",
        r"\smash",
        r"\boxed",
        r"\fbox",
        r"\hspace",
        r"\vspace",
        r"\ref",
        r"\eqref",
        r"\cite",
        r"\mathop",
        r"\mathrel",
        r"\mathbin",
        r"\mathord",
        r"\mathopen",
        r"\mathclose",
        r"\mathpunct",
        r"\mathinner",
        r"\lefteqn",
        r"\rlap",
        r"\llap",
        r"\mathllap",
        r"\mathrlap",
        r"\cancel",
        r"\bcancel",
        r"\xcancel",
        r"\sout",
    ]
)
_TWO_ARG = frozenset([r"\frac", r"\binom", r"\stackrel", r"\underset"])
_TEXT_CMDS = frozenset(
    [
        r"\text",
        r"\mbox",
        r"\hbox",
        r"\textnormal",
        r"\textrm",
        r"\textit",
        r"\textbf",
        r"\textup",
        r"\textsf",
        r"\texttt",
        r"\textsl",
        r"\emph",
        r"\textsc",
        r"\textmd",
    ]
)
# Commands read with brace-group arguments (core.spelling never unwraps such an argument).
COMMANDS_WITH_ARGUMENTS = _ONE_ARG | _TWO_ARG | _TEXT_CMDS | {r"\sqrt"}
_RENAME = {
    "\\dfrac": "\\frac",
    "\\tfrac": "\\frac",
    "\\cfrac": "\\frac",
    "\\dbinom": "\\binom",
    "\\tbinom": "\\binom",
    "\\overset": "\\stackrel",
    "\\text": "\\mathrm",
    "\\mbox": "\\mathrm",
    "\\hbox": "\\mathrm",
    "\\textnormal": "\\mathrm",
    "\\textrm": "\\mathrm",
    "\\textup": "\\mathrm",
    "\\textmd": "\\mathrm",
    "\\textsc": "\\mathrm",
    "\\textit": "\\mathit",
    "\\textsl": "\\mathit",
    "\\emph": "\\mathit",
    "\\textbf": "\\mathbf",
    "\\textsf": "\\mathsf",
    "\\texttt": "\\mathtt",
    "\\boldsymbol": "\\mathbf",
    "\\bm": "\\mathbf",
    "\\pmb": "\\mathbf",
    "\\bold": "\\mathbf",
    "\\Bbb": "\\mathbb",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\lVert": "\\|",
    "\\rVert": "\\|",
    "\\>": "\\:",
    "\\iff": "\\Longleftrightarrow",
    "\\implies": "\\Longrightarrow",
    "\\impliedby": "\\Longleftarrow",
    "\\gets": "\\leftarrow",
    "\\lor": "\\vee",
    "\\varnothing": "\\emptyset",
    "\\leqslant": "\\leq",
    "\\geqslant": "\\geq",
    "\\dotsc": "\\ldots",
    "\\dotso": "\\ldots",
    "\\dotsb": "\\cdots",
    "\\dotsm": "\\cdots",
    "\\dotsi": "\\cdots",
}
_FONT_CMDS = frozenset([r"\mathrm", r"\mathit", r"\mathbf", r"\mathsf", r"\mathtt"])
_TEXT_SWITCHES = frozenset([r"\rm", r"\normalfont", r"\upshape", r"\mdseries"])
_XARROWS = {"\\xrightarrow": "\\longrightarrow", "\\xleftarrow": "\\longleftarrow"}
_OPERATORS = frozenset(
    [
        "arcsin",
        "arccos",
        "arctan",
        "arctg",
        "arcctg",
        "arg",
        "ch",
        "cos",
        "cosec",
        "cosh",
        "cot",
        "cotg",
        "coth",
        "csc",
        "ctg",
        "cth",
        "deg",
        "dim",
        "exp",
        "hom",
        "ker",
        "lg",
        "ln",
        "log",
        "sec",
        "sh",
        "sin",
        "sinh",
        "tan",
        "tanh",
        "tg",
        "th",
    ]
)
_OPERATORS_LIMITS = frozenset(
    ["det", "gcd", "inf", "lim", "liminf", "limsup", "max", "min", "Pr", "sup"]
)
_DROP_WITH_ARG = frozenset([r"\label", r"\tag", r"\color"])
_DROP = frozenset([r"\nonumber", r"\notag", r"\limits", r"\nolimits"])
_REJECT = frozenset(
    [
        r"\def",
        r"\gdef",
        r"\edef",
        r"\newcommand",
        r"\renewcommand",
        r"\providecommand",
        r"\DeclareMathOperator",
        r"\let",
        r"\eqno",
        r"\leqno",
    ]
)
_PASS_ENVS = frozenset(["equation", "equation*", "displaymath", "math"])
_MATRIX_DELIMS = {
    "matrix": None,
    "smallmatrix": None,
    "pmatrix": ("\\left(", "\\right)"),
    "bmatrix": ("\\left[", "\\right]"),
    "Bmatrix": ("\\left\\{", "\\right\\}"),
    "vmatrix": ("\\left|", "\\right|"),
    "Vmatrix": ("\\left\\|", "\\right\\|"),
}
_ALIGN_ENVS = frozenset(
    [
        "aligned",
        "align",
        "align*",
        "split",
        "alignat",
        "alignat*",
        "alignedat",
        "flalign",
        "flalign*",
    ]
)
_CENTER_ENVS = frozenset(["gather", "gather*", "gathered", "multline", "multline*"])
_EQNARRAY_ENVS = frozenset(["eqnarray", "eqnarray*"])
_CASES_ENVS = frozenset(["cases", "dcases", "cases*"])


class _Parser:
    """Recursive descent over lexer tokens, emitting normalized tokens."""

    def __init__(self, tokens: list[str]) -> None:
        self.toks = tokens
        self.pos = 0
        self.in_font = 0  # > 0 inside a \mathrm-like argument, where ' stays literal

    # -- token access -------------------------------------------------------------------
    def _skip_ws(self) -> None:
        toks = self.toks
        while self.pos < len(toks) and toks[self.pos] == _WS:
            self.pos += 1

    def peek(self) -> str | None:
        self._skip_ws()
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def next(self) -> str:
        self._skip_ws()
        if self.pos >= len(self.toks):
            raise _Fail("unexpected end")
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def expect(self, tok: str) -> None:
        if self.next() != tok:
            raise _Fail(f"expected {tok}")

    # -- sequences ----------------------------------------------------------------------
    def parse_seq(self, stops: frozenset[str]) -> list[str]:
        """Parse until a token in ``stops`` (not consumed) or the end of input."""
        out: list[str] = []
        while True:
            tok = self.peek()
            if tok is None:
                if stops:
                    raise _Fail("unexpected end")
                return out
            if tok in stops:
                return out
            if tok in ("\\over", "\\choose"):
                self.pos += 1
                den = self.parse_seq(stops)
                cmd = "\\frac" if tok == "\\over" else "\\binom"
                return [cmd, "{", *out, "}", "{", *den, "}"]
            if tok == "\\rm":
                self.pos += 1
                rest = _unwrap(self.parse_seq(stops))
                out += ["\\mathrm", "{", *rest, "}"]
                continue
            if tok in ("^", "_") and not out:
                # no base: im2latex keeps such a script exactly as written
                self.pos += 1
                out.append(tok)
                self.parse_atom(out)
                continue
            if tok in ("^", "_") or (tok == "'" and out and not self.in_font):
                out += self.parse_scripts()
                continue
            self.parse_atom(out)

    def parse_scripts(self) -> list[str]:
        sub: list[str] | None = None
        sup: list[str] | None = None
        primes = 0
        while True:
            tok = self.peek()
            if tok == "'":
                if sup is not None:
                    raise _Fail("double superscript")
                self.pos += 1
                primes += 1
            elif tok == "^":
                if sup is not None:
                    raise _Fail("double superscript")
                self.pos += 1
                sup = self.parse_arg()
            elif tok == "_":
                if sub is not None:
                    raise _Fail("double subscript")
                self.pos += 1
                sub = self.parse_arg()
            else:
                break
        out: list[str] = []
        if sub is not None:
            out += ["_", "{", *sub, "}"]
        if primes or sup is not None:
            out += ["^", "{", *(["\\prime"] * primes), *(sup or []), "}"]
        return out

    def parse_group(self) -> list[str]:
        """After ``{`` has been consumed: the group's content, ``}`` consumed."""
        content = self.parse_seq(frozenset("}"))
        self.pos += 1
        return content

    def parse_arg(self) -> list[str]:
        """One macro/script argument, without its braces."""
        tok = self.peek()
        if tok is None:
            raise _Fail("missing argument")
        if tok == "{":
            self.pos += 1
            return self.parse_group()
        if tok in ("}", "^", "_", "&", "\\\\") or tok.startswith("\\end{"):
            raise _Fail("missing argument")
        out: list[str] = []
        self.parse_atom(out)
        return out

    def parse_optional(self) -> list[str] | None:
        """An optional ``[..]`` argument's content, or None if there is none."""
        if self.peek() != "[":
            return None
        self.pos += 1
        content = self.parse_seq(frozenset("]"))
        self.pos += 1
        return content

    def skip_optional(self) -> None:
        if self.peek() == "[":
            self.pos += 1
            depth = 0
            while True:
                tok = self.next()
                if tok == "{":
                    depth += 1
                elif tok == "}":
                    depth -= 1
                elif tok == "]" and depth == 0:
                    return

    # -- atoms ----------------------------------------------------------------------------
    def parse_atom(self, out: list[str]) -> None:
        tok = self.next()
        if tok == "{":
            raw_rm = self.peek() == "\\rm"
            content = self.parse_group()
            out += content if raw_rm else ["{", *content, "}"]
            return
        if tok in ("}", "&", "\\\\", "$", "#") or tok.startswith("\\end{"):
            raise _Fail(f"unexpected {tok}")
        if tok[0] != "\\" or len(tok) == 1:
            out.append(tok)
            return
        if tok.startswith("\\begin{"):
            out += self.parse_env(tok[7:-1])
            return
        if tok in _REJECT:
            raise _Fail(f"unsupported {tok}")
        if tok in _DROP:
            return
        if tok in _DROP_WITH_ARG:
            if self.peek() == "*":
                self.pos += 1
            self.parse_arg()
            return
        if tok == "\\textcolor":
            self.parse_arg()
            out += ["{", *self.parse_arg(), "}"]
            return
        if tok in ("\\left", "\\right"):
            delim = self.next()
            if delim in ("{", "}", "&", "\\\\") or delim.startswith("\\begin"):
                raise _Fail("bad delimiter")
            delim = _RENAME.get(delim, delim)
            if tok == "\\right":
                raise _Fail("unmatched \\right")
            inner = self.parse_seq(frozenset(["\\right"]))
            self.pos += 1
            rdelim = self.next()
            if rdelim in ("{", "}", "&", "\\\\"):
                raise _Fail("bad delimiter")
            out += ["\\left" + delim, *inner, "\\right" + _RENAME.get(rdelim, rdelim)]
            return
        name = tok[1:]
        if name in _OPERATORS:
            out += ["\\operatorname", "{", *name, "}"]
            return
        if name in _OPERATORS_LIMITS:
            out += ["\\operatorname*", "{", *name, "}"]
            return
        if tok in ("\\hspace", "\\vspace") and self.peek() == "*":
            self.pos += 1
        if tok == "\\substack":
            self.expect("{")
            rows = self.parse_rows("}")
            out += ["\\begin{array}", "{", "c", "}", *_emit_rows(rows), "\\end{array}"]
            return
        if tok in _XARROWS:
            below = self.parse_optional()
            above = self.parse_arg()
            if below:
                raise _Fail("\\xrightarrow with a label below")
            out += ["\\stackrel", "{", *above, "}", "{", _XARROWS[tok], "}"]
            return
        if tok in _TEXT_CMDS:
            self.in_font += 1
            out += [_RENAME.get(tok, tok), "{", *self.parse_text_arg(), "}"]
            self.in_font -= 1
            return
        tok = _RENAME.get(tok, tok)
        if tok == "\\sqrt":
            out.append(tok)
            opt = self.parse_optional()
            if opt is not None:
                out += ["[", *opt, "]"]
            out += ["{", *self.parse_arg(), "}"]
        elif tok in _FONT_CMDS:
            self.in_font += 1
            out += [tok, "{", *self.parse_arg(), "}"]
            self.in_font -= 1
        elif tok in _ONE_ARG:
            out += [tok, "{", *self.parse_arg(), "}"]
        elif tok in _TWO_ARG:
            out += [tok, "{", *self.parse_arg(), "}", "{", *self.parse_arg(), "}"]
        else:
            out.append(tok)

    def parse_text_arg(self) -> list[str]:
        """A text-mode argument: whitespace -> ``~``, ``$..$`` parsed as math."""
        tok = self.peek()
        if tok is None:
            raise _Fail("missing argument")
        if tok != "{":
            self.pos += 1
            return [tok]
        self.pos += 1
        if self._looks_tokenized():
            return self.parse_group()
        return self._text_until_close()

    def _looks_tokenized(self) -> bool:
        """True if the text group (``{`` consumed) is already space-separated tokens, as in
        im2latex's ``\\textrm { f o r }``: then its spaces are separators, not text."""
        toks = self.toks
        depth = 0
        prev_ws = True
        seen_ws = False
        for i in range(self.pos, len(toks)):
            tok = toks[i]
            if tok == _WS:
                prev_ws = seen_ws = True
                continue
            if not prev_ws:
                return False
            if tok == "{":
                depth += 1
            elif tok == "}":
                if depth == 0:
                    return seen_ws
                depth -= 1
            prev_ws = False
        return False

    def _text_until_close(self) -> list[str]:
        out: list[str] = []
        toks = self.toks
        while True:
            if self.pos >= len(toks):
                raise _Fail("unbalanced text group")
            tok = toks[self.pos]
            self.pos += 1
            if tok == "}":
                return out
            if tok == _WS or tok == "\\":
                out.append("~")
            elif tok == "{":
                out += ["{", *self._text_until_close(), "}"]
            elif tok == "$":
                out += self.parse_seq(frozenset("$"))
                self.pos += 1
            elif tok in _TEXT_SWITCHES:
                continue
            elif tok in _TEXT_CMDS:
                out += [_RENAME.get(tok, tok), "{", *self.parse_text_arg(), "}"]
            elif tok in ("\\\\", "&", "#") or tok.startswith(("\\begin{", "\\end{")):
                raise _Fail(f"unexpected {tok} in text")
            else:
                out.append(tok)

    # -- environments ---------------------------------------------------------------------
    def parse_env(self, name: str) -> list[str]:
        end = f"\\end{{{name}}}"
        if name in _PASS_ENVS:
            body = self.parse_seq(frozenset([end]))
            self.pos += 1
            return body
        if name == "array":
            self.skip_optional()
            self.expect("{")
            spec = self.parse_seq(frozenset("}"))
            self.pos += 1
            rows = self.parse_rows(end)
            return ["\\begin{array}", "{", *spec, "}", *_emit_rows(rows), "\\end{array}"]
        if name.rstrip("*") in ("alignat", "alignedat"):
            self.parse_arg()
        if (
            name in _MATRIX_DELIMS
            or name in _CASES_ENVS
            or name in _ALIGN_ENVS
            or name in _CENTER_ENVS
            or name in _EQNARRAY_ENVS
        ):
            rows = self.parse_rows(end)
            ncols = max((len(r) for r in rows), default=1)
            if name in _ALIGN_ENVS:
                spec = (["r", "l"] * ncols)[:ncols]
            elif name in _EQNARRAY_ENVS:
                spec = (["r", "c", "l"] * ncols)[: max(ncols, 3)]
            elif name in _CENTER_ENVS:
                spec = ["c"] * ncols
            elif name in _CASES_ENVS:
                spec = ["l"] * max(ncols, 2)
            else:
                spec = ["c"] * ncols
            arr = ["\\begin{array}", "{", *spec, "}", *_emit_rows(rows), "\\end{array}"]
            if name in _CASES_ENVS:
                return ["\\left\\{", *arr, "\\right."]
            delims = _MATRIX_DELIMS.get(name)
            return [delims[0], *arr, delims[1]] if delims else arr
        raise _Fail(f"unsupported environment {name}")

    def parse_rows(self, end: str) -> list[list[list[str]]]:
        stops = frozenset(["&", "\\\\", "\\cr", end])
        rows: list[list[list[str]]] = []
        row: list[list[str]] = []
        while True:
            cell = _unwrap(self.parse_seq(stops))
            row.append(cell)
            tok = self.next()
            if tok == "&":
                continue
            rows.append(row)
            row = []
            if tok == end:
                break
            self.skip_optional()  # \\[2pt]
        if rows and len(rows[-1]) == 1 and not rows[-1][0]:
            rows.pop()  # nothing after the last \\
        return rows


def group_end(tokens: Sequence[str], start: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``start``; None when it is never closed."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i] == "{":
            depth += 1
        elif tokens[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def is_one_group(tokens: Sequence[str]) -> bool:
    """True when ``tokens`` is exactly one brace group, ``{ ... }`` (not ``{ a } { b }``)."""
    return len(tokens) >= 2 and tokens[0] == "{" and tokens[-1] == "}" and group_end(tokens, 0) == len(tokens) - 1


def _unwrap(tokens: list[str]) -> list[str]:
    """Content of ``{ ... }`` if ``tokens`` is exactly one brace group, else ``tokens``."""
    return tokens[1:-1] if is_one_group(tokens) else tokens


def _emit_rows(rows: list[list[list[str]]]) -> list[str]:
    out: list[str] = []
    for row in rows:
        for j, cell in enumerate(row):
            if j:
                out.append("&")
            out += ["{", *cell, "}"]
        out.append("\\\\")
    return out


_WRAPPERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def _strip_math_delims(text: str) -> str:
    text = text.strip()
    changed = True
    while changed:
        changed = False
        for left, right in _WRAPPERS:
            if (
                len(text) >= len(left) + len(right)
                and text.startswith(left)
                and text.endswith(right)
            ):
                text = text[len(left) : len(text) - len(right)].strip()
                changed = True
    return text


def normalize_latex(raw: str) -> str | None:
    """Normalize a raw LaTeX formula into im2latex-100k form, or None if that is not possible."""
    if not raw or not raw.strip():
        return None
    parser = _Parser(_lex(_strip_math_delims(raw)))
    try:
        out = parser.parse_seq(frozenset())
    except (_Fail, RecursionError):
        return None
    if not out:
        return None
    return " ".join(out)


def normalize_is_identity_rate(formulas: Iterable[str]) -> float:
    """Fraction of (already normalized) formulas ``f`` with ``normalize_latex(f) == f``."""
    total = same = 0
    for f in formulas:
        total += 1
        same += normalize_latex(f) == f
    return same / total if total else 0.0
