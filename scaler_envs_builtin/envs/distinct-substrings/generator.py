def generate(params, rng):
    n = params["n"]
    letters = "abcd"[: rng.randint(1, 4)] if rng.random() < 0.2 else rng.choice(["ab", "abc"])
    if rng.random() < 0.4:
        # Repeat a short random pattern with a few mutations: many repeated substrings.
        period = rng.randint(1, max(1, min(n, 8)))
        pattern = [rng.choice(letters) for _ in range(period)]
        chars = [pattern[i % period] for i in range(n)]
        for _ in range(rng.randint(0, 3)):
            chars[rng.randrange(n)] = rng.choice(letters)
    else:
        chars = [rng.choice(letters) for _ in range(n)]
    s = "".join(chars)
    stdin = f"{n}\n{s}\n"
    return stdin, {"n": n, "s": s}
