import sys


def main():
    n, k = map(int, sys.stdin.read().split())
    nxt = [i % n + 1 for i in range(n + 1)]
    prev = n
    order = []
    for remaining in range(n, 0, -1):
        for _ in range((k - 1) % remaining):
            prev = nxt[prev]
        out = nxt[prev]
        order.append(out)
        nxt[prev] = nxt[out]
    print(" ".join(map(str, order)))


main()
