def generate(params, rng):
    n = params["n"]
    k = rng.randint(1, 20)
    return f"{n} {k}\n", {"n": n, "k": k}
