def generate(params, rng):
    n = params["n"]
    max_stay = rng.randint(0, 300)
    # A window about n times the longest stay keeps overlaps frequent but not certain.
    window = min(9999 - max_stay, rng.randint(1, max(2, n * (max_stay + 1))))
    # Rounding times to a grid makes arrivals coincide with departures (the tie rule).
    grid = rng.choice([1, 1, 5, 10])
    arr, dep = [], []
    for _ in range(n):
        a = rng.randint(0, window) // grid * grid
        d = a + rng.randint(0, max_stay) // grid * grid
        arr.append(a)
        dep.append(d)
    stdin = f"{n}\n{' '.join(map(str, arr))}\n{' '.join(map(str, dep))}\n"
    return stdin, {"n": n, "arr": arr, "dep": dep}
