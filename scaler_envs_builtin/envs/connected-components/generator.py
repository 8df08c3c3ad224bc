from itertools import accumulate


def generate(params, rng):
    n = params["n"]
    # Edges only inside hidden groups keep several components even when m is large.
    groups = rng.randint(1, max(1, n // 3))
    members = [[] for _ in range(groups)]
    for v in range(1, n + 1):
        members[rng.randrange(groups)].append(v)
    members = [g for g in members if len(g) >= 2]
    capacity = sum(len(g) * (len(g) - 1) // 2 for g in members)
    m = min(params["m"], capacity)
    if 2 * m > capacity:
        pairs = [(g[i], g[j]) for g in members for i in range(len(g)) for j in range(i + 1, len(g))]
        chosen = rng.sample(pairs, m)
    else:
        cum = list(accumulate(len(g) * (len(g) - 1) // 2 for g in members))
        seen = set()
        chosen = []
        while len(chosen) < m:
            g = rng.choices(members, cum_weights=cum)[0]
            u, v = sorted(rng.sample(g, 2))
            if (u, v) not in seen:
                seen.add((u, v))
                chosen.append((u, v))
    edges = [[u, v] if rng.random() < 0.5 else [v, u] for u, v in chosen]
    lines = [f"{n} {m}"] + [f"{u} {v}" for u, v in edges]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "m": m, "edges": edges}
