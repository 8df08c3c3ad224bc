def generate(params, rng):
    n = params["n"]
    q = params["q"]
    a = [rng.randint(-9999, 9999) for _ in range(n)]
    queries = [sorted([rng.randint(1, n), rng.randint(1, n)]) for _ in range(q)]
    lines = [f"{n} {q}", " ".join(map(str, a))]
    lines += [f"{left} {right}" for left, right in queries]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "q": q, "a": a, "queries": queries}
