"""N-body simulation, symplectic Euler steps over parallel lists of floats (one list per
coordinate): pairwise forces in a nested loop, ** 0.5, the energy before and after."""


def make_bodies(n):
    xs = []
    ys = []
    zs = []
    vxs = []
    vys = []
    vzs = []
    ms = []
    for i in range(n):
        xs.append(((i * 37) % 11) - 5.0)
        ys.append(((i * 53) % 13) - 6.0)
        zs.append(((i * 71) % 7) - 3.0)
        vxs.append(((i * 3) % 5) * 0.01)
        vys.append(((i * 7) % 5) * -0.01)
        vzs.append(((i * 11) % 3) * 0.005)
        ms.append(1.0 + (i % 4) * 0.25)
    return xs, ys, zs, vxs, vys, vzs, ms


def energy(xs, ys, zs, vxs, vys, vzs, ms, n):
    e = 0.0
    for i in range(n):
        e += 0.5 * ms[i] * (vxs[i] * vxs[i] + vys[i] * vys[i] + vzs[i] * vzs[i])
        for j in range(i + 1, n):
            dx = xs[i] - xs[j]
            dy = ys[i] - ys[j]
            dz = zs[i] - zs[j]
            e -= ms[i] * ms[j] / (dx * dx + dy * dy + dz * dz + 0.01) ** 0.5
    return e


def advance(xs, ys, zs, vxs, vys, vzs, ms, n, dt):
    for i in range(n):
        for j in range(i + 1, n):
            dx = xs[i] - xs[j]
            dy = ys[i] - ys[j]
            dz = zs[i] - zs[j]
            d2 = dx * dx + dy * dy + dz * dz + 0.01
            mag = dt / (d2 * d2 ** 0.5)
            mi = ms[i] * mag
            mj = ms[j] * mag
            vxs[i] -= dx * mj
            vys[i] -= dy * mj
            vzs[i] -= dz * mj
            vxs[j] += dx * mi
            vys[j] += dy * mi
            vzs[j] += dz * mi
    for i in range(n):
        xs[i] += dt * vxs[i]
        ys[i] += dt * vys[i]
        zs[i] += dt * vzs[i]


def simulate(n, steps):
    xs, ys, zs, vxs, vys, vzs, ms = make_bodies(n)
    before = energy(xs, ys, zs, vxs, vys, vzs, ms, n)
    for _ in range(steps):
        advance(xs, ys, zs, vxs, vys, vzs, ms, n, 0.001)
    after = energy(xs, ys, zs, vxs, vys, vzs, ms, n)
    return before, after, xs[0], vys[n - 1]


if __name__ == "__main__":
    print(simulate(10, 10_000))
