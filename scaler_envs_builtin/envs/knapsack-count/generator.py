def generate(params, rng):
    n = params["n"]
    # Total weight stays at most about 10000, so S (at most 10000) can reach most subset sums;
    # a small weight range makes many subsets share a sum.
    hi = rng.randint(1, max(1, min(9999, 20000 // n)))
    w = [rng.randint(1, hi) for _ in range(n)]
    target = rng.randint(1, min(sum(w), 10000))
    # Filling up to the target with a random subset makes the answer usually nonzero.
    s = 0
    for i in rng.sample(range(n), n):
        if s + w[i] <= target:
            s += w[i]
    if s == 0 or rng.random() < 0.1:
        s = target
    stdin = f"{n} {s}\n{' '.join(map(str, w))}\n"
    return stdin, {"n": n, "S": s, "w": w}
