#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int n, s;
    if (!(cin >> n >> s)) return 0;
    vector<int> w(n);
    for (auto &x : w) cin >> x;
    // Full table f[i][t] over the first i items: independent of the Python rolling row.
    vector<vector<int>> f(n + 1, vector<int>(s + 1, 0));
    f[0][0] = 1;
    for (int i = 1; i <= n; i++) {
        for (int t = 0; t <= s; t++) {
            f[i][t] = f[i - 1][t];
            if (t >= w[i - 1]) f[i][t] = (int)((f[i][t] + (long long)f[i - 1][t - w[i - 1]]) % MOD);
        }
    }
    cout << f[n][s] << "\n";
    return 0;
}
