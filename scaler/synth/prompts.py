"""What synthesis asks the LLM, stage by stage (method section 2.2 and 2.3).

The replies are parsed strictly by ``extract.parse_meta`` and ``generate.parse_generator``;
the prompts spell out exactly the format those parsers accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scaler.model import ScaleParam
from scaler.synth.llm import messages
from scaler.synth.problem import Problem

SYSTEM = (
    "You are an expert competitive programmer who turns programming problems into test-case "
    "generators. Follow the requested answer format exactly."
)

EXTRACT = """\
Read this programming problem and report its scale parameters and its output.

# Problem
{statement}

# What to report
Answer with one JSON object and nothing else:
{{"scale_params": {{"<name>": {{"min": <int>, "max": <int>}}, ...}},
 "output_type": "<string|number|array|graph|matrix|bool|others>",
 "is_output_unique": <true|false>}}

- scale_params: only integer quantities that bound the size of something the input iterates
  over (n, m, the length of a string, the number of queries), with the bounds the constraints
  give. Not the number of test cases T. Not value ranges (such as a_i <= 10^9).
- output_type: number for one integer or real; array for a sequence of numbers; string for one
  word or token; bool for yes/no answers; graph, matrix or others for anything else.
- is_output_unique: false when several different outputs would be accepted.
"""

GENERATOR = """\
Write a test-case generator for this programming problem.

# Problem
{statement}

# Scale parameters
{params}

# What to write
One ```python block defining

    def generate(params, rng):
        ...
        return stdin_text, shown_input

- params maps each scale parameter above to an int; take every size from it.
- rng is a random.Random: draw every other value from it, never from the module random.
- Generate ONE test case; where the input format starts with a number of test cases T, use T = 1.
- All other values random, below 10,000 in absolute value where the constraints allow, and
  always within the constraints; prefer inputs that have an answer.
- stdin_text is the exact input, as a reference solution reads it, ending with a newline.
- shown_input is a dict with the same data, e.g. {{"n": 3, "a": [4, 1, 2]}}.
- Only the standard library.
"""

STARTING_POINT = """
# A starting point
The source ships this input generator, which has no scale parameters. Keep its idea and
its input format, and make the sizes come from params:

```python
{code}
```
"""

REPAIR = """\
The generator failed a check:

{feedback}

Fix it. Answer with the whole corrected generator in one ```python block, same contract.
"""


def _params(params: Sequence[ScaleParam]) -> str:
    return "\n".join(f"- {p.name}: {p.min} <= {p.name} <= {p.max}" for p in params)


def extract_messages(problem: Problem) -> tuple[Mapping[str, str], ...]:
    return messages(SYSTEM, EXTRACT.format(statement=problem.statement))


def _generator_request(problem: Problem, params: Sequence[ScaleParam]) -> str:
    asked = GENERATOR.format(statement=problem.statement, params=_params(params))
    declared = problem.declared
    if declared is not None and declared.generator is not None:
        asked += STARTING_POINT.format(code=declared.generator.source.strip())
    return asked


def generator_messages(
    problem: Problem, params: Sequence[ScaleParam]
) -> tuple[Mapping[str, str], ...]:
    """The generator request; a generator the source ships comes along as a starting point."""
    return messages(SYSTEM, _generator_request(problem, params))


def repair_messages(
    problem: Problem, params: Sequence[ScaleParam], previous: str, feedback: str
) -> tuple[Mapping[str, str], ...]:
    """The generator conversation so far, the last answer, then what went wrong with it."""
    history = [
        {"role": "user", "content": _generator_request(problem, params)},
        {"role": "assistant", "content": previous},
    ]
    return messages(SYSTEM, REPAIR.format(feedback=feedback), history)
