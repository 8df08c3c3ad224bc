def generate(params, rng):
    n = params["n"]
    m = params["m"]
    s = "".join(rng.choice("abc") for _ in range(n))
    if rng.random() < 0.5:
        # t starts as a lightly edited copy of s, so the distance is often well below the maximum.
        t = list(s[:m]) + [rng.choice("abc") for _ in range(m - n)]
        for _ in range(rng.randint(0, max(1, m // 5))):
            t[rng.randrange(m)] = rng.choice("abc")
        t = "".join(t)
    else:
        t = "".join(rng.choice("abc") for _ in range(m))
    stdin = f"{s}\n{t}\n"
    return stdin, {"n": n, "m": m, "s": s, "t": t}
