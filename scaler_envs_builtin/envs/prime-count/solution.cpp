#include <bits/stdc++.h>
using namespace std;

int main() {
    long long L, R;
    if (!(cin >> L >> R)) return 0;
    // Segmented sieve: independent of the Python full sieve. Small primes up to sqrt(R) come
    // from trial division; each crosses out its multiples inside [L, R] only.
    vector<long long> small;
    for (long long p = 2; p * p <= R; p++) {
        bool prime = true;
        for (long long q : small) {
            if (q * q > p) break;
            if (p % q == 0) { prime = false; break; }
        }
        if (prime) small.push_back(p);
    }
    vector<char> isPrime(R - L + 1, 1);
    for (long long p : small) {
        long long start = max(p * p, (L + p - 1) / p * p);
        for (long long x = start; x <= R; x += p) isPrime[x - L] = 0;
    }
    long long count = 0;
    for (long long x = L; x <= R; x++)
        if (x >= 2 && isPrime[x - L]) count++;
    cout << count << "\n";
    return 0;
}
