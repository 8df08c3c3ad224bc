"""Prompts and new tokens a second of a policy, one prompt per call against all in one call.

    python benchmarks/policy.py NAME:MODEL [-n 64] [--seed 0] [--policy-option KEY=VALUE ...]

Prints one JSON object: policy, settings, prompts, one_at_a_time and batched (seconds,
prompts_per_s, and new_tokens and new_tokens_per_s where the policy has a tokenizer, else
answer_chars), speedup (batched over one at a time) and same_answers (sampling is seeded per
prompt, so they should be). Same as `scaler bench policy --json`.
"""

from __future__ import annotations

import sys

from scaler.cli import main

if __name__ == "__main__":
    main(["bench", "policy", "--json", *sys.argv[1:]])
