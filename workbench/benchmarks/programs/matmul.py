"""Matrix multiply over lists of lists of floats: triple nested loop, row lookups hoisted
by hand, a float accumulator."""


def make_matrix(n, seed):
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            row.append(((i * 7 + j * 13 + seed) % 19) / 7.0 - 1.0)
        rows.append(row)
    return rows


def matmul(a, b, n):
    c = []
    for i in range(n):
        a_row = a[i]
        c_row = [0.0] * n
        for k in range(n):
            a_ik = a_row[k]
            b_row = b[k]
            for j in range(n):
                c_row[j] += a_ik * b_row[j]
        c.append(c_row)
    return c


def trace_and_sum(n):
    a = make_matrix(n, 1)
    b = make_matrix(n, 5)
    c = matmul(a, b, n)
    trace = 0.0
    total = 0.0
    for i in range(n):
        trace += c[i][i]
        row = c[i]
        for j in range(n):
            total += row[j] * (j + 1)
    return trace, total


if __name__ == "__main__":
    print(trace_and_sum(160))
