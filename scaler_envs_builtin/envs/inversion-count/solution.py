import sys


def sort_count(a):
    """Merge sort a, returning (sorted list, number of inversions)."""
    if len(a) <= 1:
        return a, 0
    mid = len(a) // 2
    left, inv_left = sort_count(a[:mid])
    right, inv_right = sort_count(a[mid:])
    merged = []
    inv = inv_left + inv_right
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            merged.append(left[i])
            i += 1
        else:
            # right[j] is smaller than every remaining element of left.
            inv += len(left) - i
            merged.append(right[j])
            j += 1
    merged += left[i:]
    merged += right[j:]
    return merged, inv


def main():
    data = list(map(int, sys.stdin.read().split()))
    n = data[0]
    print(sort_count(data[1 : 1 + n])[1])


main()
