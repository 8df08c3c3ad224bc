import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    best = None
    current = 0
    for x in map(int, data[1 : 1 + n]):
        current = max(x, current + x)
        if best is None or current > best:
            best = current
    print(best)


main()
