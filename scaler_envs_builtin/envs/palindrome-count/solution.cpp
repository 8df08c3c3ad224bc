#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    string s;
    if (!(cin >> n >> s)) return 0;
    n = s.size();
    // O(n^2) interval DP by length, independent of the Python Manacher:
    // pal[i] for length L is true iff s[i..i+L-1] is a palindrome; it needs the row for L-2.
    vector<char> prev2(n + 1, 1), prev1(n, 1), cur(n);
    long long total = n;  // every single letter
    for (int len = 2; len <= n; len++) {
        for (int i = 0; i + len <= n; i++) {
            bool inner = (len == 2) ? true : prev2[i + 1];
            cur[i] = (s[i] == s[i + len - 1]) && inner;
            if (cur[i]) total++;
        }
        prev2 = prev1;
        prev1 = cur;
    }
    cout << total << "\n";
    return 0;
}
