def generate(params, rng):
    n = params["n"]
    # A value range about as wide as n makes repeats common but not overwhelming.
    hi = max(1, min(9999, n + n // 2))
    a = [rng.randint(1, hi) for _ in range(n)]
    stdin = f"{n}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "a": a}
