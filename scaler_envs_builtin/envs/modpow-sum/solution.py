import sys


def main():
    data = list(map(int, sys.stdin.read().split()))
    n, m = data[0], data[1]
    total = 0
    for i in range(n):
        a, b = data[2 + 2 * i], data[3 + 2 * i]
        total += pow(a, b, m)
    print(total % m)


main()
