def generate(params, rng):
    n = params["n"]
    m = max(n - 1, min(params["m"], n * (n - 1) // 2))
    # A random spanning tree guarantees connectivity; the other edges are distinct random pairs.
    order = rng.sample(range(1, n + 1), n)
    pairs = []
    for i in range(1, n):
        u, v = order[i], order[rng.randrange(i)]
        pairs.append((min(u, v), max(u, v)))
    seen = set(pairs)
    if 2 * m > n * (n - 1) // 2:
        rest = [(u, v) for u in range(1, n + 1) for v in range(u + 1, n + 1) if (u, v) not in seen]
        pairs += rng.sample(rest, m - (n - 1))
    else:
        while len(pairs) < m:
            u, v = sorted(rng.sample(range(1, n + 1), 2))
            if (u, v) not in seen:
                seen.add((u, v))
                pairs.append((u, v))
    rng.shuffle(pairs)
    hi = rng.choice([10, 100, 9999])
    edges = []
    for u, v in pairs:
        if rng.random() < 0.5:
            u, v = v, u
        edges.append([u, v, rng.randint(1, hi)])
    lines = [f"{n} {m}"] + [f"{u} {v} {w}" for u, v, w in edges]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "m": m, "edges": edges}
