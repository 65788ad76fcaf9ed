"""N-body over a list of Body objects: the class-heavy counterpart of nbody.py. Instance
attributes loaded and stored in the pairwise loop, a method call per pair and per body,
the system's own attributes read in its methods."""


class Body:
    def __init__(self, x, y, z, vx, vy, vz, m):
        self.x = x
        self.y = y
        self.z = z
        self.vx = vx
        self.vy = vy
        self.vz = vz
        self.m = m

    def kinetic(self):
        return 0.5 * self.m * (self.vx * self.vx + self.vy * self.vy + self.vz * self.vz)

    def pull(self, other, dt):
        dx = self.x - other.x
        dy = self.y - other.y
        dz = self.z - other.z
        d2 = dx * dx + dy * dy + dz * dz + 0.01
        mag = dt / (d2 * d2 ** 0.5)
        mi = self.m * mag
        mj = other.m * mag
        self.vx -= dx * mj
        self.vy -= dy * mj
        self.vz -= dz * mj
        other.vx += dx * mi
        other.vy += dy * mi
        other.vz += dz * mi

    def move(self, dt):
        self.x += dt * self.vx
        self.y += dt * self.vy
        self.z += dt * self.vz


class System:
    def __init__(self, bodies):
        self.bodies = bodies
        self.n = len(bodies)

    def energy(self):
        e = 0.0
        bodies = self.bodies
        for i in range(self.n):
            a = bodies[i]
            e += a.kinetic()
            for j in range(i + 1, self.n):
                b = bodies[j]
                dx = a.x - b.x
                dy = a.y - b.y
                dz = a.z - b.z
                e -= a.m * b.m / (dx * dx + dy * dy + dz * dz + 0.01) ** 0.5
        return e

    def advance(self, dt):
        bodies = self.bodies
        n = self.n
        for i in range(n):
            a = bodies[i]
            for j in range(i + 1, n):
                a.pull(bodies[j], dt)
        for b in bodies:
            b.move(dt)


def make_system(n):
    bodies = []
    for i in range(n):
        bodies.append(Body(((i * 37) % 11) - 5.0, ((i * 53) % 13) - 6.0,
                           ((i * 71) % 7) - 3.0, ((i * 3) % 5) * 0.01,
                           ((i * 7) % 5) * -0.01, ((i * 11) % 3) * 0.005,
                           1.0 + (i % 4) * 0.25))
    return System(bodies)


def simulate(n, steps):
    system = make_system(n)
    before = system.energy()
    for _ in range(steps):
        system.advance(0.001)
    after = system.energy()
    return before, after, system.bodies[0].x, system.bodies[n - 1].vy


if __name__ == "__main__":
    print(simulate(10, 3_000))
