import sys


def main():
    L, R = map(int, sys.stdin.read().split()[:2])
    # Sieve of Eratosthenes over [0, R].
    sieve = bytearray([1]) * (R + 1)
    sieve[0] = 0
    if R >= 1:
        sieve[1] = 0
    p = 2
    while p * p <= R:
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, R + 1, p)))
        p += 1
    print(sum(sieve[L : R + 1]))


main()
