"""Exceptions and scopes on every backend against CPython, construct by construct:
try/except with types, tuples of types and an as-name (bound, then unbound), else,
finally overriding return/break/continue, nested try, bare raise, raise from, implicit
chaining, sys.exc_info()/sys.exception() in handlers, user exception classes, with on a
class-based and a contextlib.contextmanager manager (suppressing or not), async with,
try/finally in generators (close, throw), exceptions escaping to the top level (exit status and the
last traceback line, chained), and exceptions caught in hot loops that are compiled."""

import pytest

from helpers import assert_every_backend_like_cpython, cli_in_process

PROGRAMS = {
    "except_types": '''
class AppError(Exception):
    pass

class Detail(AppError):
    def __init__(self, code):
        super().__init__(f"code {code}")
        self.code = code

def classify(x):
    try:
        if x == 0:
            raise Detail(7)
        if x == 1:
            raise KeyError(x)
        if x == 2:
            return [1][5]
        if x == 3:
            raise AppError
        return 100 // (x - 4)
    except (KeyError, IndexError) as e:
        return f"lookup {type(e).__name__} {e}"
    except Detail as e:
        return f"detail {e} {e.code} {isinstance(e, AppError)}"
    except AppError:
        return "app"
    except ZeroDivisionError:
        return "zero"

for i in range(6):
    print(classify(i))
try:
    try:
        raise ValueError("v")
    except 3:
        pass
except TypeError as e:
    print("bad clause:", e)
try:
    raise ValueError("x")
except:
    print("bare except")
''',
    "else_finally": '''
import sys

def f(x):
    try:
        r = 10 // x
    except ZeroDivisionError as e:
        print("zero", e, sys.exc_info()[0].__name__, sys.exception() is e)
        r = -1
    else:
        print("else", sys.exc_info())
    finally:
        print("finally", sys.exc_info()[0])
    return r

print(f(2), f(0), sys.exc_info())

def unbound():
    try:
        raise ValueError
    except ValueError as err:
        pass
    try:
        print(err)
    except UnboundLocalError as u:
        print("unbound:", u)

unbound()
''',
    "finally_overrides": '''
def loop():
    for i in range(4):
        try:
            if i == 1:
                continue
            if i == 3:
                break
            print("body", i)
        finally:
            print("finally", i)
    return "done"

def override():
    try:
        return "try"
    finally:
        return "finally wins"

def swallow():
    for i in range(3):
        try:
            raise ValueError(i)
        finally:
            if i < 2:
                continue
            break
    return "swallowed"

def return_value():
    x = 1
    try:
        return x
    finally:
        x = 2
        print("x set to", x)

def in_handler():
    for i in range(3):
        try:
            raise KeyError(i)
        except KeyError:
            if i == 0:
                continue
            return f"returned at {i}"
        finally:
            print("cleanup", i)

print(loop(), override(), swallow(), return_value(), in_handler())
''',
    "nested_and_reraise": '''
import sys

def nested():
    try:
        try:
            raise ValueError("inner")
        except TypeError:
            print("not here")
        finally:
            print("inner finally")
    except ValueError as e:
        print("outer caught", e)
        try:
            raise KeyError("k")
        except KeyError as k:
            print("context", repr(k.__context__))
        print("still handling", sys.exception())
    print("after", sys.exception())

def reraise():
    try:
        try:
            1 / 0
        except ZeroDivisionError:
            raise
    except ZeroDivisionError as e:
        print("again", e)
    try:
        try:
            {}["x"]
        except KeyError as e:
            raise ValueError("bad key") from e
    except ValueError as v:
        print("cause", repr(v.__cause__), v.__suppress_context__)
    try:
        try:
            {}["y"]
        except KeyError:
            raise ValueError("during")
    except ValueError as v:
        print("context", repr(v.__context__), v.__cause__)
    try:
        try:
            {}["z"]
        except KeyError:
            raise ValueError("quiet") from None
    except ValueError as v:
        print("suppressed", v.__suppress_context__, v.__cause__)

def helper():
    raise

def reraise_in_callee():
    try:
        raise IndexError("from callee")
    except IndexError:
        try:
            helper()
        except IndexError as e:
            print("callee re-raised:", e)

nested()
reraise()
reraise_in_callee()
try:
    raise
except RuntimeError as e:
    print(e)
''',
    "with_managers": '''
import contextlib

class Res:
    def __init__(self, name, suppress=False):
        self.name, self.suppress = name, suppress
    def __enter__(self):
        print("enter", self.name)
        return self
    def __exit__(self, t, v, tb):
        print("exit", self.name, t.__name__ if t else None, v, tb is not None)
        return self.suppress

@contextlib.contextmanager
def managed(tag):
    print("setup", tag)
    try:
        yield tag * 2
    except ZeroDivisionError:
        print("manager caught")
    finally:
        print("teardown", tag)

with Res("a") as r:
    print("inside", r.name)
with Res("b", True):
    raise ValueError("suppressed")
try:
    with Res("c"):
        raise KeyError("c")
except KeyError as e:
    print("caught", e)
with managed("x") as v:
    print("got", v)
with managed("y"):
    1 / 0

def use(n):
    out = []
    for i in range(n):
        with Res(str(i)), managed(i) as m:
            if i == 1:
                continue
            if i == 3:
                break
            out.append(m)
    return out

def ret():
    with Res("r"):
        return "from with"

print(use(5), ret())
with contextlib.suppress(IndexError):
    [][1]
try:
    with 5:
        pass
except TypeError as e:
    print(e)
''',
    "generators": '''
def gen_finally():
    try:
        yield 1
        yield 2
    finally:
        print("generator cleanup")

g = gen_finally()
print(next(g))
g.close()
print(list(gen_finally()))

def gen_catch():
    while True:
        try:
            x = yield
        except ValueError as e:
            print("generator caught", e)
            yield "handled"

c = gen_catch()
next(c)
print(c.throw(ValueError("boom")))

def gen_with():
    with open_thing():
        yield "in"

class open_thing:
    def __enter__(self):
        print("opened")
    def __exit__(self, *a):
        print("closed", a[0].__name__ if a[0] else None)

w = gen_with()
print(next(w))
w.close()
''',
    "async_with": '''
import asyncio

class AM:
    def __init__(self, name, suppress=False):
        self.name, self.suppress = name, suppress
    async def __aenter__(self):
        print("aenter", self.name)
        await asyncio.sleep(0)
        return self.name.upper()
    async def __aexit__(self, t, v, tb):
        print("aexit", self.name, t.__name__ if t else None, v)
        return self.suppress

async def main():
    async with AM("a") as x:
        print("inside", x)
    async with AM("b", True):
        raise ValueError("suppressed")
    try:
        async with AM("c") as c, AM("d"):
            raise KeyError(c)
    except KeyError as e:
        print("caught", e)
    for i in range(3):
        async with AM(str(i)):
            if i == 1:
                continue
            if i == 2:
                return "returned"

async def bad():
    async with 3:
        pass

print(asyncio.run(main()))
try:
    asyncio.run(bad())
except TypeError as e:
    print(e)
''',
    "generator_exc_state": '''
import sys
def g():
    try:
        raise KeyError("in gen")
    except KeyError:
        pass
    yield sys.exception()
    yield sys.exception()
it = g()
try:
    raise ValueError("caller")
except ValueError:
    print(next(it))
print(next(it))
def h():
    print("h sees", sys.exception())
    try:
        raise TypeError
    except TypeError:
        print("inner", repr(sys.exception()))
    print("h after", sys.exception())
    yield 1
try:
    raise OSError("outer")
except OSError:
    list(h())
print(sys.exception())
''',
    "hot_loops": '''
def work(n):
    total = 0
    for i in range(n):
        try:
            total += 1000 // (i % 100)
        except ZeroDivisionError:
            total -= 1
    return total

def lookups(n):
    d = {}
    hits = 0
    for i in range(n):
        try:
            hits += d[i % 10]
        except KeyError:
            d[i % 10] = i
    return hits

def guarded(rows, n):
    t = 0.0
    misses = 0
    for k in range(n):
        try:
            t = t + rows[k % 53][0]
        except IndexError:
            misses = misses + 1
        finally:
            t = t * 1.0
    return t, misses

print(work(5000), lookups(3000), guarded([[i * 0.5] for i in range(50)], 4000))
''',
    "hot_calls": '''
def safe_get(d, k):
    try:
        return d[k]
    except KeyError:
        return -1

def later(xs, i):
    n = len(xs)
    j = i % (n + 2)
    try:
        v = xs[j]
    except IndexError as e:
        v = len(str(e))
    finally:
        n += 1
    return v + n

def driver(m):
    d = {1: 10, 2: 20}
    xs = [1, 2, 3]
    total = 0
    for i in range(m):
        total += safe_get(d, i % 4) + later(xs, i)
    return total

print(driver(3000))
''',
    "escapes_chained": '''
class Failure(Exception):
    pass

def first():
    raise KeyError("first")

def second():
    try:
        first()
    except KeyError as e:
        raise Failure("second") from e

def third():
    try:
        second()
    except Failure:
        raise ValueError("third")

print("start")
third()
''',
    "escapes_from_finally": '''
def f():
    try:
        raise KeyError("lost")
    finally:
        print("cleanup runs")

for i in range(3):
    try:
        f()
    except KeyError:
        print("caught", i)
f()
''',
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, tmp_path):
    assert_every_backend_like_cpython(PROGRAMS[name], tmp_path)


def test_hot_loop_with_handler_runs_compiled(tmp_path):
    """The loop around a try is machine code, and its exceptions reach their handler
    through exits to tier 1 (no re-optimization: those exits are not failed guesses)."""
    path = tmp_path / "hot.py"
    path.write_text(PROGRAMS["hot_loops"])
    status, out, err = cli_in_process("trace", "--backend", "unicorn", path)
    assert status == 0, err
    lines = [ln for ln in out.splitlines() if ln.startswith("tier 2: work")]
    assert lines == [lines[0]] and "ran in unicorn" in lines[0] and "1 returns" in lines[0], out
