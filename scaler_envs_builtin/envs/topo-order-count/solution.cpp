#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;
int n;
vector<int> succ;
vector<long long> memo;

// Orderings of the vertices in rest, placing last a vertex with no successor left in rest.
long long count(int rest) {
    if (rest == 0) return 1;
    long long &res = memo[rest];
    if (res >= 0) return res;
    res = 0;
    for (int v = 0; v < n; v++)
        if ((rest >> v & 1) && (succ[v] & rest) == 0) res = (res + count(rest ^ (1 << v))) % MOD;
    return res;
}

int main() {
    int m;
    if (!(cin >> n >> m)) return 0;
    succ.assign(n, 0);
    for (int i = 0; i < m; i++) {
        int u, v;
        cin >> u >> v;
        succ[u - 1] |= 1 << (v - 1);
    }
    memo.assign(1 << n, -1);
    cout << count((1 << n) - 1) << "\n";
    return 0;
}
