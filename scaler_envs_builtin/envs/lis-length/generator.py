def generate(params, rng):
    n = params["n"]
    # Values drawn from a range about as wide as n keep repeats and long runs both likely.
    hi = max(2, min(9999, 2 * n))
    a = [rng.randint(1, hi) for _ in range(n)]
    stdin = f"{n}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "a": a}
