import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.read().split()
    n, s = int(data[0]), int(data[1])
    ways = [1] + [0] * s
    for w in map(int, data[2 : 2 + n]):
        if w <= s:
            shifted = [(x + y) % MOD for x, y in zip(ways[w:], ways, strict=False)]
            ways = ways[:w] + shifted
    print(ways[s])


main()
