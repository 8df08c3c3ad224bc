#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, m;
    if (!(cin >> n >> m)) return 0;
    vector<vector<pair<int, int>>> adj(n + 1);
    for (int i = 0; i < m; i++) {
        int u, v, w;
        cin >> u >> v >> w;
        adj[u].push_back({w, v});
        adj[v].push_back({w, u});
    }
    // Prim's algorithm with a binary heap: independent of the Python Kruskal.
    vector<bool> in(n + 1, false);
    priority_queue<pair<int, int>, vector<pair<int, int>>, greater<>> pq;
    pq.push({0, 1});
    long long total = 0;
    while (!pq.empty()) {
        auto [w, v] = pq.top();
        pq.pop();
        if (in[v]) continue;
        in[v] = true;
        total += w;
        for (auto [ew, u] : adj[v])
            if (!in[u]) pq.push({ew, u});
    }
    cout << total << "\n";
    return 0;
}
