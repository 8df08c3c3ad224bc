#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    string s;
    if (!(cin >> n >> s)) return 0;
    n = s.size();
    // Independent of the Python KMP loop: compute the Z-function, then convert it.
    // A match s[i..i+z[i]-1] == s[0..z[i]-1] gives a border of length z[i] ending at i+z[i]-1,
    // and a border of length k ending at j implies one of length k-1 ending at j-1.
    vector<int> z(n, 0);
    int l = 0, r = 0;
    for (int i = 1; i < n; i++) {
        if (i < r) z[i] = min(r - i, z[i - l]);
        while (i + z[i] < n && s[z[i]] == s[i + z[i]]) z[i]++;
        if (i + z[i] > r) l = i, r = i + z[i];
    }
    vector<int> pi(n, 0);
    for (int i = 1; i < n; i++)
        if (z[i] > 0) pi[i + z[i] - 1] = max(pi[i + z[i] - 1], z[i]);
    for (int i = n - 2; i >= 0; i--) pi[i] = max(pi[i], pi[i + 1] - 1);
    for (int i = 0; i < n; i++) cout << pi[i] << (i + 1 < n ? ' ' : '\n');
    return 0;
}
