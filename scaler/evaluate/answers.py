"""Whether a benchmark response's final answer matches the reference answer.

Benchmarks write the same answer many ways (``\\frac{1}{2}``, ``0.5``, ``1/2``; ``(B)``, ``B.``),
and a scorer that compares strings under-counts a model that is right. Three kinds of answer:

``math``
    Compared with `math-verify <https://pypi.org/project/math-verify/>`_ (symbolic, sympy-based)
    when it is importable; if it is not, or it says "different", a light fallback normalizes the
    LaTeX (``\\boxed``, ``\\text{}``, ``$``, ``\\left``/``\\right``, spaces, a trailing period,
    degrees, ``\\dfrac``/``\\tfrac``, ``x =``) and compares numbers numerically and the rest as
    strings. The fallback only adds matches that are plainly the same value, so the two agree on
    everything the fallback decides.
``choice``
    Multiple-choice letters A-J: ``B``, ``(B)``, ``B)``, ``B.``, ``\\text{B}``, ``answer is B``.
``exact``
    Free text (BBEH): lower-cased, whitespace and trailing periods dropped, following BBEH's own
    fuzzy match (``(a)`` vs ``a``, ``[x]`` vs ``x``, quotes, a trailing question mark).

A prediction may be the bare final answer or a whole response: where it holds a ``\\boxed{}``,
the last complete one is the answer.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from scaler.verify import extract_boxed, numbers_equal, parse_number

KINDS: tuple[str, ...] = ("math", "choice", "exact")

#: Data-source names (lower-cased substrings) of the benchmarks whose answers are math.
MATH_SOURCES: tuple[str, ...] = ("math", "aime", "amc", "gsm", "olympiad", "minerva")
#: Data-source names of the multiple-choice benchmarks.
CHOICE_SOURCES: tuple[str, ...] = ("mmlu", "gpqa", "option_")

_LETTER = re.compile(r"^\(?([A-J])\)?[.):]?$", re.IGNORECASE)
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*:?\s*\(?\s*([A-J])\b", re.IGNORECASE)
_TEXT = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|texttt|mbox)\s*\{([^{}]*)\}")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|\\circ|°|\\degree|\s*degrees?\b")
_VARIABLE = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?=(?!=)")
_SQRT_BARE = re.compile(r"\\sqrt(\w)")
_FRAC_BARE = re.compile(r"\\frac(\d)(\d)")


def _answer(text: str) -> str:
    """The last ``\\boxed{}`` content where there is one, else the text itself."""
    boxed = extract_boxed(text)
    return (boxed if boxed is not None else text).strip()


def normalize_math(text: str) -> str:
    """A math answer in one spelling: the fallback's string comparison and number parsing."""
    text = _answer(text)
    text = text.replace("$", "")
    text = re.sub(r"\\(?:left|right)(?![a-zA-Z])", "", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    while (unwrapped := _TEXT.sub(r"\1", text)) != text:
        text = unwrapped
    text = _DEGREES.sub("", text)
    for space in ("\\!", "\\,", "\\;", "\\:", "\\ ", "~"):
        text = text.replace(space, "")
    text = re.sub(r"\s+", "", text)
    text = text.rstrip(".")
    text = _VARIABLE.sub("", text)
    text = _SQRT_BARE.sub(r"\\sqrt{\1}", text)
    text = _FRAC_BARE.sub(r"\\frac{\1}{\2}", text)
    text = text.replace("\\%", "").replace("%", "")
    return text


def _number(text: str) -> Any:
    """A number from a normalized math answer (``\\frac{a}{b}``, ``a/b``, decimals), or None."""
    if "," in text and not re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        return None  # a tuple, not a number with thousands separators
    return parse_number(text.replace(",", ""))


def _math_fallback(prediction: str, truth: str) -> bool:
    got, want = normalize_math(prediction), normalize_math(truth)
    if not got or not want:
        return False
    a, b = _number(got), _number(want)
    if a is not None and b is not None:
        return numbers_equal(a, b)
    return got == want


def _math_verify(prediction: str, truth: str) -> bool | None:
    """math-verify's judgement, or None where it is not installed or fails."""
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    # math-verify bounds its sympy work with SIGALRM, which only the main thread may set.
    main = threading.current_thread() is threading.main_thread()
    timeout = 5 if main else None
    try:
        gold = parse(f"\\boxed{{{_answer(truth)}}}", parsing_timeout=timeout)
        pred = parse(f"\\boxed{{{_answer(prediction)}}}", parsing_timeout=timeout)
        if not gold or not pred:
            return False
        return bool(verify(gold, pred, timeout_seconds=timeout))
    except Exception:  # a malformed answer is a wrong answer, not a crash
        return None


def math_verify_available() -> bool:
    try:
        import math_verify  # noqa: F401
    except ImportError:
        return False
    return True


def choice_letter(text: str) -> str | None:
    """The option letter (upper case) a response or a reference names, or None."""
    answer = _answer(text).replace("$", "").strip()
    while (unwrapped := _TEXT.sub(r"\1", answer)) != answer:
        answer = unwrapped
    answer = answer.strip()
    if match := _LETTER.match(answer):
        return match.group(1).upper()
    found = _ANSWER_IS.findall(answer)
    return found[-1].upper() if found else None


def normalize_exact(text: str) -> str:
    """BBEH's preprocessing: lower case, ``, `` -> ``,``, first line, no trailing period."""
    text = _answer(text)
    while (unwrapped := _TEXT.sub(r"\1", text)) != text:
        text = unwrapped
    text = text.strip().strip("$").strip().lower()
    text = text.replace("**", "").split("\n")[0].strip()
    text = re.sub(r"\s*,\s*", ",", text)
    text = re.sub(r"\s+", " ", text)
    return text[:-1] if text.endswith(".") else text


def _exact(prediction: str, truth: str) -> bool:
    got, want = normalize_exact(prediction), normalize_exact(truth)
    if not got:
        return False
    if got == want:
        return True
    for a, b in ((got, want), (want, got)):
        if len(a) == 3 and a[0] == "(" and a[-1] == ")" and a[1] == b:
            return True
        if a == f"[{b}]" or (a.endswith("?") and a[:-1] == b):
            return True
    if got.replace("'", "").replace('"', "") == want.replace("'", "").replace('"', ""):
        return True
    x, y = parse_number(got), parse_number(want)
    return x is not None and y is not None and numbers_equal(x, y)


def equivalent(prediction: str, truth: str, kind: str) -> bool:
    """Whether ``prediction`` gives the same answer as the reference ``truth``."""
    if kind == "math":
        return bool(_math_verify(prediction, truth)) or _math_fallback(prediction, truth)
    if kind == "choice":
        want = choice_letter(truth)
        return want is not None and choice_letter(prediction) == want
    if kind == "exact":
        return _exact(prediction, truth)
    raise ValueError(f"unknown answer kind {kind!r}; known: {', '.join(KINDS)}")


def kind_for(data_source: str, ground_truth: str) -> str:
    """The answer kind of a benchmark row, from its data source and the reference answer."""
    source = data_source.lower()
    truth = _answer(ground_truth)
    letter = _LETTER.match(truth.replace("$", "").strip()) is not None
    numeric = _number(normalize_math(truth)) is not None
    if any(name in source for name in CHOICE_SOURCES):
        return "choice" if letter else "exact"
    if "bbeh" in source:
        return "math" if numeric else "exact"
    if any(name in source for name in MATH_SOURCES):
        return "math"
    if letter:
        return "choice"
    return "math"
