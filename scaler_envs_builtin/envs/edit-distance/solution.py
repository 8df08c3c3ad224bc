import sys


def levenshtein(s, t):
    # Bit-parallel column DP (Myers 1999, Hyyro 2001): bit i of pv / mv means D[i+1][j] - D[i][j]
    # is +1 / -1 in the current column j.
    n = len(s)
    if n == 0:
        return len(t)
    full = (1 << n) - 1
    top = 1 << (n - 1)
    peq = {}
    for i, c in enumerate(s):
        peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = full, 0, n
    for c in t:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def main():
    s, t = sys.stdin.read().split()
    print(levenshtein(s, t))


main()
