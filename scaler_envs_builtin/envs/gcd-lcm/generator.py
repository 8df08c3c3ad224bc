def generate(params, rng):
    n = params["n"]
    mode = rng.random()
    if mode < 0.5:
        # A shared factor g makes the gcd non-trivial.
        g = rng.randint(2, 60)
        a = [g * rng.randint(1, 9999 // g) for _ in range(n)]
    elif mode < 0.8:
        # Numbers built from a few small primes keep the lcm from exploding too fast.
        a = []
        for _ in range(n):
            x = 1
            for p in (2, 3, 5, 7):
                while x * p < 10000 and rng.random() < 0.45:
                    x *= p
            a.append(x)
    else:
        a = [rng.randint(1, 9999) for _ in range(n)]
    stdin = f"{n}\n{' '.join(map(str, a))}\n"
    return stdin, {"n": n, "a": a}
