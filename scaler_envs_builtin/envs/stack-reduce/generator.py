def cancelling_block(length, letters, rng):
    """A string of even length that reduces to nothing: a random bracket sequence where each
    matched pair of brackets gets one letter."""
    out, stack = [], []
    opens_left = length // 2
    for pos in range(length):
        remaining = length - pos
        if opens_left > 0 and (not stack or (len(stack) < remaining - 1 and rng.random() < 0.5)):
            ch = rng.choice(letters)
            stack.append(ch)
            opens_left -= 1
        else:
            ch = stack.pop()
        out.append(ch)
    return out


def generate(params, rng):
    n = params["n"]
    letters = rng.choice(["ab", "abc", "abcd"])
    mode = rng.random()
    if mode < 0.3:
        chars = [rng.choice(letters) for _ in range(n)]
    elif mode < 0.5:
        # Fully cancelling (when n is even; an odd n leaves one extra letter somewhere).
        chars = cancelling_block(n - n % 2, letters, rng)
        if n % 2:
            chars.insert(rng.randint(0, len(chars)), rng.choice(letters))
    else:
        # Cancelling blocks separated by a few surviving letters.
        chars = []
        while len(chars) < n:
            room = n - len(chars)
            if room >= 2 and rng.random() < 0.7:
                size = 2 * rng.randint(1, max(1, min(room, n // 3 + 2) // 2))
                chars += cancelling_block(size, letters, rng)
            else:
                chars.append(rng.choice(letters))
    s = "".join(chars)
    stdin = f"{n}\n{s}\n"
    return stdin, {"n": n, "s": s}
