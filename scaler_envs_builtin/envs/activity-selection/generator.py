def generate(params, rng):
    n = params["n"]
    span = min(9999, max(10, 3 * n))
    longest = rng.randint(1, max(1, span // 4))
    intervals = []
    for _ in range(n):
        length = rng.randint(1, longest)
        s = rng.randint(0, span - length)
        intervals.append([s, s + length])
    lines = [str(n)] + [f"{s} {e}" for s, e in intervals]
    stdin = "\n".join(lines) + "\n"
    return stdin, {"n": n, "intervals": intervals}
