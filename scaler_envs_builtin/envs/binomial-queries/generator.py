def generate(params, rng):
    q = params["q"]
    queries = []
    for _ in range(q):
        r = rng.random()
        # Mix small cases (exact values below the modulus), large ones and the edges k = 0, n.
        n = rng.randint(0, 30) if r < 0.3 else rng.randint(0, 9999)
        kind = rng.random()
        if kind < 0.1:
            k = 0
        elif kind < 0.2:
            k = n
        elif kind < 0.3:
            k = rng.randint(max(0, n - 3), n)
        else:
            k = rng.randint(0, n)
        queries.append([n, k])
    lines = [str(q)] + [f"{n} {k}" for n, k in queries]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"q": q, "queries": queries}
