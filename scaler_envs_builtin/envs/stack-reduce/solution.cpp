#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    string s;
    if (!(cin >> n >> s)) return 0;
    // Literal simulation, independent of the Python stack: sweep the string deleting every
    // non-overlapping adjacent equal pair, and repeat until a sweep deletes nothing.
    bool changed = true;
    while (changed) {
        changed = false;
        string t;
        for (size_t i = 0; i < s.size();) {
            if (i + 1 < s.size() && s[i] == s[i + 1]) {
                i += 2;
                changed = true;
            } else {
                t += s[i];
                i++;
            }
        }
        s = t;
    }
    cout << (s.empty() ? "EMPTY" : s) << "\n";
    return 0;
}
