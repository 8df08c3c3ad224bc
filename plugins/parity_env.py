"""Even-Sum Subarrays: a complete scaler environment plugin in one file.

Use it without installing anything:

    scaler --plugin ./parity_env.py envs show even-sum-subarrays
    scaler --plugin ./parity_env.py envs sample even-sum-subarrays -l 5 -s 1
"""

from __future__ import annotations

from collections.abc import Callable

from scaler import EnvSpec, Limits, Program, ScaleParam, hookimpl
from scaler.levels import level_offsets, offset_range, with_bases
from scaler.model import Provenance

# The programs are text: scaler runs them only in its sandbox, never in this process.

GENERATOR = r"""
def generate(params, rng):
    n = params["n"]
    a = [rng.randint(1, 99) for _ in range(n)]
    return f"{n}\n{' '.join(map(str, a))}\n", {"n": n, "a": a}
"""

# The ground truth: linear, counting prefixes by the parity of their sum.
SOLUTION_PY = r"""
n, *a = map(int, open(0).read().split())
seen = [1, 0]  # prefixes so far with an even / odd sum; the empty prefix is even
parity = pairs = 0
for x in a:
    parity ^= x & 1
    pairs += seen[parity]
    seen[parity] += 1
print(pairs)
"""

# A second opinion by another method (every subarray), to test the first one against.
SOLUTION_CPP = r"""
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    for (auto &x : a) std::cin >> x;
    long long count = 0;
    for (int l = 0; l < n; l++) {
        long long sum = 0;
        for (int r = l; r < n; r++) {
            sum += a[r];
            if (sum % 2 == 0) count++;
        }
    }
    std::cout << count << "\n";
}
"""

# n up to 500: the largest input (numbers of up to two digits) stays within the 2,048
# characters of stdin that scaler's calibration allows a prompt (DEFAULT_BUDGET_CHARS).
PARAMS = with_bases([ScaleParam("n", 1, 500)])

EVEN_SUM_SUBARRAYS = EnvSpec(
    id="even-sum-subarrays",
    name="Even-Sum Subarrays",
    statement=(
        "You are given an array a_1, a_2, ..., a_n of positive integers. A subarray is a "
        "contiguous part a_l, a_(l+1), ..., a_r of it, for 1 <= l <= r <= n. Count the "
        "subarrays whose sum is even."
    ),
    output_spec="Print one integer: the number of subarrays with an even sum.",
    output_type="number",
    scale_params=PARAMS,
    levels=level_offsets(offset_range(PARAMS)),
    generator=Program("python", GENERATOR),
    solutions=(Program("python", SOLUTION_PY), Program("cpp", SOLUTION_CPP)),
    limits=Limits(cpu_s=2.0, wall_s=5.0, memory_mb=256),
    provenance=Provenance(source="parity-env", origin="docs/plugins.md"),
)


@hookimpl
def scaler_register_environments(register: Callable[[EnvSpec], None]) -> None:
    register(EVEN_SUM_SUBARRAYS)
