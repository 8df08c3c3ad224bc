import sys


def main():
    data = sys.stdin.read().split()
    s = data[1]
    n = len(s)
    pi = [0] * n
    for i in range(1, n):
        k = pi[i - 1]
        while k > 0 and s[i] != s[k]:
            k = pi[k - 1]
        if s[i] == s[k]:
            k += 1
        pi[i] = k
    print(" ".join(map(str, pi)))


main()
