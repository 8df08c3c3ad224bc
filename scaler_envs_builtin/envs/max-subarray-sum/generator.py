def generate(params, rng):
    n = params["n"]
    # The upper bound sets how positive the values lean; -1 makes every value negative.
    hi = rng.choice([9999, 9999, 5000, 2000, -1])
    a = [rng.randint(-9999, hi) for _ in range(n)]
    stdin = f"{n}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "a": a}
