import sys


def main():
    data = sys.stdin.read().split()
    n, k = int(data[0]), int(data[1])
    a = sorted(map(int, data[2 : 2 + n]))
    count = 0
    i, j = 0, n - 1
    while i < j:
        if a[i] + a[j] <= k:
            count += j - i
            i += 1
        else:
            j -= 1
    print(count)


main()
