def generate(params, rng):
    n = params["n"]
    hi = rng.choice([5, 20, 100, 1000, 9999])
    a = [rng.randint(1, hi) for _ in range(n)]
    # S at most the total (capped below 10000), so the answer is rarely the whole array.
    S = rng.randint(0, min(9999, sum(a)))
    stdin = f"{n} {S}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "S": S, "a": a}
