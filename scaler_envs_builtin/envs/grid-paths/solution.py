import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.read().split()
    rows, cols = int(data[0]), int(data[1])
    grid = data[2 : 2 + rows]
    ways = [0] * cols
    ways[0] = 1
    for row in grid:
        left = 0
        for c in range(cols):
            if row[c] == "#":
                ways[c] = 0
            else:
                ways[c] = (ways[c] + left) % MOD
            left = ways[c]
    print(ways[cols - 1])


main()
