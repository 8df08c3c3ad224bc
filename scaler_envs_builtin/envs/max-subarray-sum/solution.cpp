#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (!(cin >> n)) return 0;
    // Best prefix sum difference: independent of the Python Kadane scan.
    long long prefix = 0, min_prefix = 0, best = LLONG_MIN;
    for (int i = 0; i < n; i++) {
        long long x;
        cin >> x;
        prefix += x;
        best = max(best, prefix - min_prefix);
        min_prefix = min(min_prefix, prefix);
    }
    cout << best << "\n";
    return 0;
}
