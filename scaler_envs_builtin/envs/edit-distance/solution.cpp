#include <bits/stdc++.h>
using namespace std;

int main() {
    string s, t;
    if (!(cin >> s >> t)) return 0;
    int n = s.size(), m = t.size();
    // d[i][j]: distance between the suffixes s[i..] and t[j..].
    vector<vector<int>> d(n + 1, vector<int>(m + 1));
    for (int i = n; i >= 0; i--) {
        for (int j = m; j >= 0; j--) {
            if (i == n) d[i][j] = m - j;
            else if (j == m) d[i][j] = n - i;
            else
                d[i][j] = min({d[i + 1][j] + 1, d[i][j + 1] + 1,
                               d[i + 1][j + 1] + (s[i] != t[j] ? 1 : 0)});
        }
    }
    cout << d[0][0] << "\n";
    return 0;
}
