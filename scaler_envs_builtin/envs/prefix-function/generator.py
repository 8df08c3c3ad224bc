def generate(params, rng):
    n = params["n"]
    letters = rng.choice(["ab", "abc"])
    if rng.random() < 0.6:
        # Repeat a short pattern with a few mutations so borders grow long and then break.
        period = rng.randint(1, max(1, min(n, 7)))
        pattern = [rng.choice(letters) for _ in range(period)]
        chars = [pattern[i % period] for i in range(n)]
        for _ in range(rng.randint(0, 3)):
            chars[rng.randrange(n)] = rng.choice(letters)
    else:
        chars = [rng.choice(letters) for _ in range(n)]
    s = "".join(chars)
    stdin = f"{n}\n{s}\n"
    return stdin, {"n": n, "s": s}
