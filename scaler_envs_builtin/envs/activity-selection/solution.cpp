#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (!(cin >> n)) return 0;
    vector<pair<int, int>> iv(n);
    int tmax = 0;
    for (auto &[s, e] : iv) {
        cin >> s >> e;
        tmax = max(tmax, e);
    }
    // best[t]: most activities fitting inside [0, t), by DP over time instead of the greedy.
    vector<vector<int>> starts_ending_at(tmax + 1);
    for (auto [s, e] : iv) starts_ending_at[e].push_back(s);
    vector<int> best(tmax + 1, 0);
    for (int t = 1; t <= tmax; t++) {
        best[t] = best[t - 1];
        for (int s : starts_ending_at[t]) best[t] = max(best[t], best[s] + 1);
    }
    cout << best[tmax] << "\n";
    return 0;
}
