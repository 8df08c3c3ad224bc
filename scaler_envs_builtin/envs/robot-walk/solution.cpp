#include <bits/stdc++.h>
using namespace std;

// Independent of the Python step-by-step walk: the two coordinates move independently, and each
// coordinate's whole history is one function f(v) = min(hi, max(lo, v + shift)). A step by d
// turns it into min(B, max(-B, f(v) + d)), which has the same shape, so it is composed in O(1).
struct Clamp {
    long long shift = 0, lo = LLONG_MIN / 4, hi = LLONG_MAX / 4;
    void step(long long d, long long B) {
        shift += d;
        lo = min(B, max(-B, lo + d));
        hi = min(B, max(-B, hi + d));
    }
    long long apply(long long v) const { return min(hi, max(lo, v + shift)); }
};

int main() {
    long long n, B;
    string s;
    if (!(cin >> n >> B >> s)) return 0;
    Clamp fx, fy;
    for (char c : s) {
        if (c == 'U') fy.step(1, B);
        else if (c == 'D') fy.step(-1, B);
        else if (c == 'L') fx.step(-1, B);
        else if (c == 'R') fx.step(1, B);
    }
    cout << fx.apply(0) << " " << fy.apply(0) << "\n";
    return 0;
}
