import sys
from collections import deque


def main():
    data = sys.stdin.read().split()
    rows, cols = int(data[0]), int(data[1])
    cells = "".join(data[2 : 2 + rows])
    start, target = cells.index("S"), cells.index("T")
    dist = [-1] * (rows * cols)
    dist[start] = 0
    queue = deque([start])
    while queue:
        v = queue.popleft()
        if v == target:
            break
        r, c = divmod(v, cols)
        neighbours = []
        if r > 0:
            neighbours.append(v - cols)
        if r < rows - 1:
            neighbours.append(v + cols)
        if c > 0:
            neighbours.append(v - 1)
        if c < cols - 1:
            neighbours.append(v + 1)
        for u in neighbours:
            if dist[u] < 0 and cells[u] != "#":
                dist[u] = dist[v] + 1
                queue.append(u)
    print(dist[target])


main()
