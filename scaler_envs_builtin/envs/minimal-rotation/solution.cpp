#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    string s;
    if (!(cin >> n >> s)) return 0;
    n = s.size();
    // Brute force: compare every rotation with the best one so far, O(n^2).
    string t = s + s;
    int best = 0;
    for (int k = 1; k < n; k++)
        if (t.compare(k, n, t, best, n) < 0) best = k;
    cout << t.substr(best, n) << "\n";
    return 0;
}
