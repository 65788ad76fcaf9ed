"""Insertion sort of pseudo-random ints (a linear congruential generator): list loads and
stores, a while loop with a compound condition, a checksum weighted by position."""


def lcg_list(n, seed):
    values = []
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        values.append(x % 100_000)
    return values


def insertion_sort(a):
    for i in range(1, len(a)):
        key = a[i]
        j = i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key


def checksum(n):
    a = lcg_list(n, 42)
    insertion_sort(a)
    total = 0
    ordered = True
    for i in range(n):
        total = (total * 31 + a[i] * (i + 1)) % 1_000_000_007
        if i > 0 and a[i - 1] > a[i]:
            ordered = False
    return total, ordered, a[0], a[n - 1]


if __name__ == "__main__":
    print(checksum(3_500))
