"""Sum of squares of scaled ints whose total passes 2**63 about 60% of the way through the
loop, whatever n: int64 fast paths must overflow into exact big ints mid-loop."""


def scale_for(n):
    scale = 1
    while scale * scale * n * n * n < 3 * 2 ** 64:
        scale *= 2
    return scale


def sum_squares(n):
    scale = scale_for(n)
    total = 0
    for i in range(n):
        x = i * scale
        total += x * x
    return total, total > 2 ** 63, total % 1_000_000_007


if __name__ == "__main__":
    print(sum_squares(3_000_000))
