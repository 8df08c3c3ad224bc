def generate(params, rng):
    rows = params["rows"]
    cols = params["cols"]
    density = rng.randint(5, 35)
    cells = [
        ["#" if rng.randrange(100) < density else "." for _ in range(cols)] for _ in range(rows)
    ]
    if rng.random() < 0.75:
        # Clearing one random monotone path keeps the answer nonzero even in long, thin grids.
        r, c = 0, 0
        cells[0][0] = "."
        while (r, c) != (rows - 1, cols - 1):
            if c == cols - 1 or (r < rows - 1 and rng.random() < rows / (rows + cols)):
                r += 1
            else:
                c += 1
            cells[r][c] = "."
    cells[0][0] = "."
    cells[rows - 1][cols - 1] = "."
    grid = ["".join(row) for row in cells]
    stdin = f"{rows} {cols}\n" + "\n".join(grid) + "\n"
    return stdin, {"rows": rows, "cols": cols, "grid": grid}
