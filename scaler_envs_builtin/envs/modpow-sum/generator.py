PRIMES = [2, 3, 5, 7, 11, 13, 97, 101, 997, 1009, 7919, 9973]


def generate(params, rng):
    n = params["n"]
    # Prime, prime-power and arbitrary moduli all show up.
    kind = rng.random()
    if kind < 0.35:
        m = rng.choice(PRIMES)
    elif kind < 0.5:
        m = rng.choice([8, 16, 27, 64, 125, 243, 1024, 2187, 4096, 6561, 8192])
    else:
        m = rng.randint(2, 9999)
    a = [rng.randint(1, 9999) for _ in range(n)]
    b = [rng.randint(1, 9999) for _ in range(n)]
    lines = [f"{n} {m}"] + [f"{x} {y}" for x, y in zip(a, b, strict=True)]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "m": m, "a": a, "b": b}
