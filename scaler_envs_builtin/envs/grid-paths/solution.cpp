#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int rows, cols;
    if (!(cin >> rows >> cols)) return 0;
    vector<string> g(rows);
    for (auto &row : g) cin >> row;
    // Count paths from each cell to the bottom-right corner, filling the table backwards.
    vector<vector<long long>> f(rows + 1, vector<long long>(cols + 1, 0));
    for (int r = rows - 1; r >= 0; r--) {
        for (int c = cols - 1; c >= 0; c--) {
            if (g[r][c] == '#') f[r][c] = 0;
            else if (r == rows - 1 && c == cols - 1) f[r][c] = 1;
            else f[r][c] = (f[r + 1][c] + f[r][c + 1]) % MOD;
        }
    }
    cout << f[0][0] << "\n";
    return 0;
}
