#include <bits/stdc++.h>
using namespace std;

int main() {
    int rows, cols;
    if (!(cin >> rows >> cols)) return 0;
    vector<string> g(rows);
    for (auto &row : g) cin >> row;
    // Search backwards from T until S is found: independent of the Python search from S.
    vector<vector<int>> d(rows, vector<int>(cols, -1));
    vector<pair<int, int>> queue;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            if (g[r][c] == 'T') {
                d[r][c] = 0;
                queue.push_back({r, c});
            }
    const int dr[4] = {1, -1, 0, 0}, dc[4] = {0, 0, 1, -1};
    for (size_t head = 0; head < queue.size(); head++) {
        auto [r, c] = queue[head];
        if (g[r][c] == 'S') {
            cout << d[r][c] << "\n";
            return 0;
        }
        for (int k = 0; k < 4; k++) {
            int nr = r + dr[k], nc = c + dc[k];
            if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;
            if (g[nr][nc] == '#' || d[nr][nc] >= 0) continue;
            d[nr][nc] = d[r][c] + 1;
            queue.push_back({nr, nc});
        }
    }
    cout << -1 << "\n";
    return 0;
}
