#include <bits/stdc++.h>
using namespace std;

// Order statistics in a Fenwick tree: index arithmetic instead of the Python linked-list walk.
int n, LOG;
vector<int> bit;

void add(int i, int v) {
    for (; i <= n; i += i & -i) bit[i] += v;
}

int kth(int k) {
    int pos = 0;
    for (int step = LOG; step > 0; step >>= 1)
        if (pos + step <= n && bit[pos + step] < k) {
            pos += step;
            k -= bit[pos];
        }
    return pos + 1;
}

int main() {
    int k;
    if (!(cin >> n >> k)) return 0;
    bit.assign(n + 1, 0);
    for (int i = 1; i <= n; i++) add(i, 1);
    LOG = 1;
    while (LOG * 2 <= n) LOG *= 2;
    int idx = 0;
    for (int remaining = n; remaining > 0; remaining--) {
        idx = (idx + k - 1) % remaining;
        int person = kth(idx + 1);
        add(person, -1);
        cout << person << (remaining > 1 ? " " : "\n");
    }
    return 0;
}
