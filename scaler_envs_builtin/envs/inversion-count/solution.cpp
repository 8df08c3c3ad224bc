#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (!(cin >> n)) return 0;
    vector<int> a(n);
    for (auto &x : a) cin >> x;
    // Fenwick tree over values, independent of the Python merge sort: scanning left to right,
    // each a_j adds the number of earlier elements strictly greater than it.
    int top = 1;
    for (int x : a) top = max(top, x);
    vector<long long> bit(top + 1, 0);
    long long inv = 0;
    for (int j = 0; j < n; j++) {
        long long notGreater = 0;
        for (int v = a[j]; v > 0; v -= v & -v) notGreater += bit[v];
        inv += j - notGreater;
        for (int v = a[j]; v <= top; v += v & -v) bit[v]++;
    }
    cout << inv << "\n";
    return 0;
}
