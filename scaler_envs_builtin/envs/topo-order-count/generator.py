def generate(params, rng):
    n = params["n"]
    m = min(params["m"], n * (n - 1) // 2)
    # Edges always go forward in a hidden random order of the vertices, so the graph is acyclic.
    order = rng.sample(range(1, n + 1), n)
    pairs = [(order[i], order[j]) for i in range(n) for j in range(i + 1, n)]
    edges = [[u, v] for u, v in rng.sample(pairs, m)]
    lines = [f"{n} {m}"] + [f"{u} {v}" for u, v in edges]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "m": m, "edges": edges}
