import sys
from itertools import accumulate


def main():
    data = sys.stdin.read().split()
    n, q = int(data[0]), int(data[1])
    prefix = [0, *accumulate(map(int, data[2 : 2 + n]))]
    pos = 2 + n
    answers = []
    for _ in range(q):
        left, right = int(data[pos]), int(data[pos + 1])
        pos += 2
        answers.append(prefix[right] - prefix[left - 1])
    print(" ".join(map(str, answers)))


main()
