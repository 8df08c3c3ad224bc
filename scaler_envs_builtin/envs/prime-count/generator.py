def generate(params, rng):
    length = params["len"]
    # The range holds exactly len integers; its start is small, so R is at most about 10^6.
    L = rng.randint(1, 9999)
    R = L + length - 1
    stdin = f"{L} {R}\n"
    return stdin, {"L": L, "R": R}
