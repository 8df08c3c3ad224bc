#include <bits/stdc++.h>
using namespace std;

// Fenwick tree: independent of the Python prefix sums.
int n;
vector<long long> bit;

void add(int i, long long v) {
    for (; i <= n; i += i & -i) bit[i] += v;
}

long long sum(int i) {
    long long s = 0;
    for (; i > 0; i -= i & -i) s += bit[i];
    return s;
}

int main() {
    int q;
    if (!(cin >> n >> q)) return 0;
    bit.assign(n + 1, 0);
    for (int i = 1; i <= n; i++) {
        long long x;
        cin >> x;
        add(i, x);
    }
    for (int i = 0; i < q; i++) {
        int l, r;
        cin >> l >> r;
        cout << (i ? " " : "") << sum(r) - sum(l - 1);
    }
    cout << "\n";
    return 0;
}
