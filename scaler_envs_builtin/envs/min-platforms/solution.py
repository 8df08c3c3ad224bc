import sys


def main():
    data = list(map(int, sys.stdin.read().split()))
    n = data[0]
    arr = data[1 : 1 + n]
    dep = data[1 + n : 1 + 2 * n]
    # Sweep over events; at equal times arrivals (0) come before departures (1),
    # because a train leaving at t still holds its platform at t.
    events = [(t, 0) for t in arr] + [(t, 1) for t in dep]
    events.sort()
    busy = best = 0
    for _, kind in events:
        if kind == 0:
            busy += 1
            best = max(best, busy)
        else:
            busy -= 1
    print(best)


main()
