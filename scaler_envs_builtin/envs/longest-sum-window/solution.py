import sys


def main():
    data = list(map(int, sys.stdin.read().split()))
    n, S = data[0], data[1]
    a = data[2 : 2 + n]
    # Two pointers: the window [left, right] is the longest one ending at right with sum <= S.
    best = 0
    left = 0
    window = 0
    for right in range(n):
        window += a[right]
        while window > S:
            window -= a[left]
            left += 1
        best = max(best, right - left + 1)
    print(best)


main()
