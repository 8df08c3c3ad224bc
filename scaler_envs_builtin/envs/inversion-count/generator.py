def generate(params, rng):
    n = params["n"]
    # Narrow value ranges give many equal elements, which are not inversions.
    hi = rng.choice([3, 10, max(2, min(9999, n)), 9999])
    a = [rng.randint(1, hi) for _ in range(n)]
    # Sometimes start from sorted or reversed order and disturb it a little.
    shape = rng.random()
    if shape < 0.2:
        a.sort()
    elif shape < 0.4:
        a.sort(reverse=True)
    if shape < 0.4:
        for _ in range(rng.randint(0, max(1, n // 10))):
            i, j = rng.randrange(n), rng.randrange(n)
            a[i], a[j] = a[j], a[i]
    stdin = f"{n}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "a": a}
