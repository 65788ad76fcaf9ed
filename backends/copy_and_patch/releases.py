"""What an exit or an error stub must release and save, at the uop being emitted.

Split from the emitter (a mixin of `_Emitter`): the references held (boxed values live
before the uop, its boxed temporaries) become the frame words the runner releases
(`CodeBlob.exit_releases`, `ErrorSite.release`), and the registers holding any of them
(or an exit's named values) the stub's saves. Consecutive uops usually hold the very same
`held` tuple (ownership shares it), so its words and registers are kept per tuple.
"""

from __future__ import annotations

from ir.core import Uop

from .blob import ErrorSite, Unsupported


class Releases:
    """`_Emitter`'s exit and error labels, with what they release and save."""

    def words_of(self, values) -> list[int]:
        shadow, vw = self.shadow, self.value_word
        if not shadow:
            return [vw[v] for v in values]
        return [shadow.get(v) or vw[v] for v in values]

    def release_now(self) -> tuple[int, ...]:
        """The frame words of every reference the current uop holds."""
        held = self.held
        if self.shadow:
            words = tuple(self.words_of(held))
        elif held is self._held_words[0]:   # consecutive uops share `held` tuples
            words = self._held_words[1]
        else:
            words = tuple([self.value_word[v] for v in held])
            self._held_words = (held, words)
        if self.temps:
            return words + tuple(self.temps)
        return words

    def saves_now(self, extra=()) -> tuple[int, ...]:
        """The registers an exit or error stub here stores: those of the held values
        (a shadowed one is in its frame word) and of `extra`."""
        operands = self.operands
        held = self.held
        try:
            if self.shadow:
                skip = set(self.shadow).difference(extra)
                regs = {operands[v][0] for v in held if v not in skip}
            elif held is self._held_saves[0]:   # consecutive uops share `held` tuples
                regs = set(self._held_saves[1])
            else:
                regs = {operands[v][0] for v in held}
                self._held_saves = (held, frozenset(regs))
            if extra:
                regs.update([operands[v][0] for v in extra])
        except KeyError as e:
            raise Unsupported(f"%{e.args[0]} has no location" if self.regalloc
                              else f"%{e.args[0]} has no frame word") from None
        regs.discard(None)
        return tuple(sorted(regs))

    def error_label(self) -> str:
        """The error stub of the current site (the references held there)."""
        release = self.release_now()
        site = self.site
        key = (site, release)
        label = self.error_cache.get(key)
        if label is None:
            k = len(self.errors)
            self.errors.append(ErrorSite(self.fn.name, site.name if site else "",
                                         site.line if site else None, release))
            self.error_saves.append(self.saves_now())
            label = self.error_cache[key] = f"error:{k}"
        return label

    def exit_label(self, u: Uop, b, i) -> str:
        if u.exit is None:
            raise Unsupported(f"{u.name} at {b.label}:{i} has no exit")
        e = u.exit
        named = [v for _, v in e.values]
        if e.locals:
            named += [v for _, v in e.locals]
        self.exits.append(e)
        self.exit_saves.append(self.saves_now(named))
        self.exit_releases.append(self.release_now())
        return f"exit:{len(self.exits) - 1}"
