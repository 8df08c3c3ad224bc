import sys

MOD = 1000000007


def main():
    data = list(map(int, sys.stdin.read().split()))
    q = data[0]
    queries = [(data[1 + 2 * i], data[2 + 2 * i]) for i in range(q)]
    top = max(n for n, _ in queries)
    fact = [1] * (top + 1)
    for i in range(1, top + 1):
        fact[i] = fact[i - 1] * i % MOD
    inv_fact = [1] * (top + 1)
    inv_fact[top] = pow(fact[top], MOD - 2, MOD)
    for i in range(top, 0, -1):
        inv_fact[i - 1] = inv_fact[i] * i % MOD
    answers = [fact[n] * inv_fact[k] % MOD * inv_fact[n - k] % MOD for n, k in queries]
    print(" ".join(map(str, answers)))


main()
