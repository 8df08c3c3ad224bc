import sys


def main():
    data = sys.stdin.read().split()
    s = data[1]
    n = len(s)
    # Two-candidate scan (minimum expression): O(n).
    i, j, k = 0, 1, 0
    while i < n and j < n and k < n:
        a = s[(i + k) % n]
        b = s[(j + k) % n]
        if a == b:
            k += 1
            continue
        if a > b:
            i += k + 1
        else:
            j += k + 1
        if i == j:
            j += 1
        k = 0
    start = min(i, j)
    print(s[start:] + s[:start])


main()
