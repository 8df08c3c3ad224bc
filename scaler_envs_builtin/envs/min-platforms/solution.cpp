#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (!(cin >> n)) return 0;
    vector<int> arr(n), dep(n);
    for (auto &x : arr) cin >> x;
    for (auto &x : dep) cin >> x;
    // Count trains present at every single time unit (difference array), independent of the
    // Python event sort: train i is present at every t in [arr[i], dep[i]].
    int top = 0;
    for (int x : dep) top = max(top, x);
    vector<long long> diff(top + 2, 0);
    for (int i = 0; i < n; i++) {
        diff[arr[i]]++;
        diff[dep[i] + 1]--;
    }
    long long cur = 0, best = 0;
    for (int t = 0; t <= top; t++) {
        cur += diff[t];
        best = max(best, cur);
    }
    cout << best << "\n";
    return 0;
}
