import sys


def main():
    data = sys.stdin.read().split()
    s = data[1]
    stack = []
    for ch in s:
        if stack and stack[-1] == ch:
            stack.pop()
        else:
            stack.append(ch)
    print("".join(stack) if stack else "EMPTY")


main()
