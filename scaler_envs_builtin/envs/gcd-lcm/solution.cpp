#include <bits/stdc++.h>
using namespace std;

int main() {
    const long long MOD = 1000000007LL;
    int n;
    if (!(cin >> n)) return 0;
    vector<long long> a(n);
    for (auto &x : a) cin >> x;
    // Independent of the Python big-integer fold: the gcd takes the minimum exponent of each
    // prime over all numbers, the lcm the maximum; both come from trial-division factorizations.
    map<long long, int> maxExp;
    map<long long, int> minExp;
    for (int i = 0; i < n; i++) {
        long long x = a[i];
        map<long long, int> f;
        for (long long p = 2; p * p <= x; p++)
            while (x % p == 0) f[p]++, x /= p;
        if (x > 1) f[x]++;
        for (auto &[p, e] : f) maxExp[p] = max(maxExp[p], e);
        if (i == 0) {
            minExp = f;
        } else {
            for (auto it = minExp.begin(); it != minExp.end();) {
                auto jt = f.find(it->first);
                if (jt == f.end()) {
                    it = minExp.erase(it);
                } else {
                    it->second = min(it->second, jt->second);
                    ++it;
                }
            }
        }
    }
    long long g = 1, l = 1;
    for (auto &[p, e] : minExp)
        for (int k = 0; k < e; k++) g *= p;
    for (auto &[p, e] : maxExp)
        for (int k = 0; k < e; k++) l = l * p % MOD;
    cout << g << " " << l << "\n";
    return 0;
}
