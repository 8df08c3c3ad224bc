#include <bits/stdc++.h>
using namespace std;

int main() {
    long long n, m;
    if (!(cin >> n >> m)) return 0;
    long long total = 0;
    for (long long i = 0; i < n; i++) {
        long long a, b;
        cin >> a >> b;
        // Plain repeated multiplication (b < 10000): independent of Python's built-in pow.
        long long r = 1 % m, base = a % m;
        for (long long k = 0; k < b; k++) r = r * base % m;
        total = (total + r) % m;
    }
    cout << total << "\n";
    return 0;
}
