def generate(params, rng):
    n = params["n"]
    # A two- or three-letter alphabet makes long palindromes common.
    letters = rng.choice(["ab", "abc"])
    chars = [rng.choice(letters) for _ in range(n)]
    # Sometimes paste a mirrored copy of a block to create one long palindrome.
    if n >= 4 and rng.random() < 0.5:
        half = rng.randint(1, n // 2)
        start = rng.randint(0, n - 2 * half)
        block = chars[start : start + half]
        chars[start + half : start + 2 * half] = block[::-1]
    s = "".join(chars)
    stdin = f"{n}\n{s}\n"
    return stdin, {"n": n, "s": s}
