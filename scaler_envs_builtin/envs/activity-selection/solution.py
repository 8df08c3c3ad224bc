import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    intervals = [(int(data[1 + 2 * i]), int(data[2 + 2 * i])) for i in range(n)]
    intervals.sort(key=lambda iv: iv[1])
    count = 0
    free_from = -1
    for s, e in intervals:
        if s >= free_from:
            count += 1
            free_from = e
    print(count)


main()
