#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    long long k;
    if (!(cin >> n >> k)) return 0;
    vector<long long> a(n);
    for (auto &x : a) cin >> x;
    sort(a.begin(), a.end());
    // Binary search per element: independent of the Python two pointers.
    long long count = 0;
    for (int i = 0; i < n; i++) {
        long long limit = k - a[i];
        auto it = upper_bound(a.begin() + i + 1, a.end(), limit);
        count += it - (a.begin() + i + 1);
    }
    cout << count << "\n";
    return 0;
}
