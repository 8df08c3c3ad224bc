from math import isqrt


def generate(params, rng):
    n = params["n"]
    # A box about as wide as a random walk of n steps wanders, so walls are actually hit.
    B = rng.randint(1, min(9999, max(1, isqrt(n))))
    # Uneven direction weights give the walk a drift towards some wall.
    weights = [rng.randint(1, 6) for _ in range(4)]
    s = "".join(rng.choices("UDLR", weights=weights, k=n))
    stdin = f"{n} {B}\n{s}\n"
    return stdin, {"n": n, "B": B, "s": s}
