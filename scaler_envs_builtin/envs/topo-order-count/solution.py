import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.read().split()
    n, m = int(data[0]), int(data[1])
    preds = [0] * n
    for i in range(m):
        u, v = int(data[2 + 2 * i]) - 1, int(data[3 + 2 * i]) - 1
        preds[v] |= 1 << u
    # ways[mask]: orderings of the vertex set mask as a prefix of a topological ordering.
    ways = [0] * (1 << n)
    ways[0] = 1
    for mask in range(1 << n):
        w = ways[mask]
        if not w:
            continue
        for v in range(n):
            if not mask >> v & 1 and preds[v] & mask == preds[v]:
                nxt = mask | 1 << v
                ways[nxt] = (ways[nxt] + w) % MOD
    print(ways[(1 << n) - 1])


main()
