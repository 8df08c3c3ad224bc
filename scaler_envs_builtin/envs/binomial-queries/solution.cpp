#include <bits/stdc++.h>
using namespace std;

int main() {
    const int MOD = 1000000007;
    int q;
    if (!(cin >> q)) return 0;
    vector<int> qn(q), qk(q);
    for (int i = 0; i < q; i++) cin >> qn[i] >> qk[i];
    // Pascal's triangle row by row, answering queries offline in order of n:
    // no modular inverses at all, independent of the Python factorial method.
    vector<int> order(q);
    iota(order.begin(), order.end(), 0);
    sort(order.begin(), order.end(), [&](int a, int b) { return qn[a] < qn[b]; });
    vector<long long> ans(q);
    vector<int> row(1, 1);  // row 0
    int rowN = 0;
    for (int idx : order) {
        while (rowN < qn[idx]) {
            row.push_back(0);
            for (int j = (int)row.size() - 1; j > 0; j--) row[j] = (row[j] + row[j - 1]) % MOD;
            rowN++;
        }
        ans[idx] = row[qk[idx]];
    }
    for (int i = 0; i < q; i++) cout << ans[i] << (i + 1 < q ? ' ' : '\n');
    return 0;
}
