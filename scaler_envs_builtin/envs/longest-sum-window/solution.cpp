#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    long long S;
    if (!(cin >> n >> S)) return 0;
    vector<long long> a(n);
    for (auto &x : a) cin >> x;
    // Brute force over all start points, independent of the Python two pointers:
    // extend from each l while the sum stays within S (all values are positive).
    int best = 0;
    for (int l = 0; l < n; l++) {
        long long sum = 0;
        for (int r = l; r < n; r++) {
            sum += a[r];
            if (sum > S) break;
            best = max(best, r - l + 1);
        }
    }
    cout << best << "\n";
    return 0;
}
