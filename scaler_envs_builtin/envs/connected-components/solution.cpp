#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, m;
    if (!(cin >> n >> m)) return 0;
    vector<vector<int>> adj(n + 1);
    for (int i = 0; i < m; i++) {
        int u, v;
        cin >> u >> v;
        adj[u].push_back(v);
        adj[v].push_back(u);
    }
    // Depth-first search with an explicit stack: independent of the Python union-find.
    vector<bool> seen(n + 1, false);
    int components = 0;
    for (int s = 1; s <= n; s++) {
        if (seen[s]) continue;
        components++;
        seen[s] = true;
        vector<int> stack = {s};
        while (!stack.empty()) {
            int v = stack.back();
            stack.pop_back();
            for (int u : adj[v])
                if (!seen[u]) {
                    seen[u] = true;
                    stack.push_back(u);
                }
        }
    }
    cout << components << "\n";
    return 0;
}
