import sys

MOVES = {"U": (0, 1), "D": (0, -1), "L": (-1, 0), "R": (1, 0)}


def main():
    data = sys.stdin.read().split()
    B = int(data[1])
    s = data[2]
    x = y = 0
    for ch in s:
        dx, dy = MOVES[ch]
        if abs(x + dx) <= B and abs(y + dy) <= B:
            x += dx
            y += dy
    print(x, y)


main()
