"""Generators in hot loops: a counter consumed by a for loop, a pipeline of generators
(map, filter, take), floats summed by sum(), and a running average fed by send(); every
step resumes a generator's frame at the block after its yield."""


def count(n):
    i = 0
    while i < n:
        yield i
        i += 1


def squares(xs):
    for x in xs:
        yield x * x


def odd(xs):
    for x in xs:
        if x % 2:
            yield x


def take(xs, k):
    for x in xs:
        if k == 0:
            return
        k -= 1
        yield x


def halves(n):
    x = 0.0
    for _ in range(n):
        yield x
        x += 0.5


def averager():
    total = 0
    n = 0
    avg = 0
    while True:
        got = yield avg
        total += got
        n += 1
        avg = total // n


def checksum(n):
    total = 0
    for x in count(n):
        total += x
    piped = 0
    for x in take(odd(squares(count(n))), n // 4):
        piped = (piped + x) % 1_000_000_007
    floats = sum(halves(n))
    avg = averager()
    next(avg)
    last = 0
    for i in range(n):
        last = avg.send(i * 3 % 1001)
    return total, piped, floats, last


if __name__ == "__main__":
    print(checksum(200_000))
