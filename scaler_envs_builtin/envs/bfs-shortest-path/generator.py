def generate(params, rng):
    rows = params["rows"]
    cols = params["cols"]
    # Wall densities around the percolation threshold give both long detours and dead ends.
    density = rng.randint(15, 40)
    cells = [
        ["#" if rng.randrange(100) < density else "." for _ in range(cols)] for _ in range(rows)
    ]
    start, target = rng.sample(range(rows * cols), 2)
    cells[start // cols][start % cols] = "S"
    cells[target // cols][target % cols] = "T"
    grid = ["".join(row) for row in cells]
    stdin = f"{rows} {cols}\n" + "\n".join(grid) + "\n"
    return stdin, {"rows": rows, "cols": cols, "grid": grid}
