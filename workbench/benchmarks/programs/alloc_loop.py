"""An allocation loop: each iteration makes and drops a small list, a tuple, a float and
a big int (above 2**64), and folds a little of each into the result."""

BIG = 2 ** 64


def alloc_loop(n):
    acc = 0
    facc = 0.0
    big_low = 0
    for i in range(n):
        items = [i, i + 1, i + 2]
        pair = (i, items[2])
        f = i * 0.5 + 0.25
        big = BIG * 3 + i * 7
        acc += items[1] - pair[0] + len(items)
        facc += f - i * 0.5
        big_low = (big_low + big % 1_000_003) % 1_000_003
    return acc, facc, big_low


if __name__ == "__main__":
    print(alloc_loop(400_000))
