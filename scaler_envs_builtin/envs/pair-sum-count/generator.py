def generate(params, rng):
    n = params["n"]
    a = [rng.randint(1, 4999) for _ in range(n)]
    if n >= 2:
        # K near the sum of two actual elements makes the count rarely 0 or all pairs.
        i, j = rng.sample(range(n), 2)
        k = a[i] + a[j] + rng.randint(-5, 5)
    else:
        k = rng.randint(2, 9998)
    k = max(2, min(9998, k))
    stdin = f"{n} {k}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "K": k, "a": a}
