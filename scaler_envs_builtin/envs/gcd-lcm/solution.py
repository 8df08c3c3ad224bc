import sys
from math import gcd


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    a = list(map(int, data[1 : 1 + n]))
    g = 0
    lcm = 1
    for x in a:
        g = gcd(g, x)
        lcm = lcm // gcd(lcm, x) * x  # exact big integer
    print(g, lcm % 1000000007)


main()
