"""Search: normalised terms kept on each message, in the message's own write, read by windows of its order.

A message document carries its terms and their positions (`k: [term...]`, `p: [[position...]...]`) beside
its text, and `act`, its activity id: global and increasing, so newest first is descending `act`. The
multikey index (k, act) on `messages` lets a query read one bounded range of `act` per term; each document
read is the message itself with every term and position, so the other terms, phrases and prefixes are
checked on it and it is the result, with no second lookup.
"""

import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pymongo.errors import BulkWriteError

from store.errors import NotMember, RoomGone
from store.messages import public_message

QUERY_MAX = 200  # characters
TERMS_MAX = 10  # words, numbers, emoji and CJK runs in a query
TERM_MAX = 64  # longer words are indexed and looked up by their first 64 characters
PREFIX_TERMS = 20  # the most words one prefix reads the index for (shortest first)
FIRST_WINDOW = 64  # ids read in the first window, times the page's limit / 20
MAX_WINDOWS = 24  # windows per page at most
WINDOW_ENTRIES = 2000  # a window is sized to read about this many entries at the density seen so far
PAGE_ENTRIES = 6000  # entries read per page at most: past it the page ends early, with `next` to go on

VOCABULARY_CHECK = 1.0  # seconds: how often a process asks whether words were forgotten (its cache may be stale)
KNOWN_MAX = 200_000  # words a process remembers as being in `words`; past it the memory starts again

# What a window reads of each message: the result's fields, and the terms and positions to match on.
FIELDS = {"_id": 0, "room": 1, "id": 1, "m": 1, "u": 1, "t": 1, "act": 1, "k": 1, "p": 1}
MENTION = re.compile(r"<@[^<>\s]{1,254}>")
_HIGHEST = "\U0010ffff"


class QueryError(ValueError):
    """The query cannot be searched; the message says why."""


def is_cjk(ch: str) -> bool:
    """Han, kana and Hangul: scripts written without spaces between words, indexed as character pairs."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x2FDF  # radicals
        or 0x3005 <= o <= 0x3007
        or 0x3021 <= o <= 0x3029
        or 0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3130 <= o <= 0x318F  # Hangul compatibility jamo
        or 0x31F0 <= o <= 0x31FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xA960 <= o <= 0xA97F
        or 0xAC00 <= o <= 0xD7FF  # Hangul syllables and jamo extended
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFFDC  # half-width kana and Hangul
        or 0x1100 <= o <= 0x11FF
        or 0x20000 <= o <= 0x3FFFF
    )


@lru_cache(maxsize=65536)
def fold(ch: str) -> tuple[tuple[str, str], ...]:
    """One character as (kind, folded character) units: kind is 'w' (word), 'c' (CJK) or 's' (symbol, emoji).

    Latin, Greek, Cyrillic...: NFKD, combining marks dropped, case-folded ("É" -> "e", "ß" -> "ss", "ﬁ" -> "fi").
    CJK: NFKC only (half-width kana become full-width; a dakuten is meaning, not an accent). Separators: nothing.
    """
    if is_cjk(ch):
        return tuple(("c", c) for c in unicodedata.normalize("NFKC", ch))
    units = []
    for c in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(c) or 0x1F3FB <= ord(c) <= 0x1F3FF or 0xFE00 <= ord(c) <= 0xFE0F:
            continue  # accents, emoji skin tones, variation selectors
        for f in unicodedata.normalize("NFKD", c.casefold()):
            category = unicodedata.category(f)
            if unicodedata.combining(f):
                continue
            if is_cjk(f):
                units.append(("c", f))
            elif category[0] in "LN":
                units.append(("w", f))
            elif category == "So":
                units.append(("s", f))
            else:
                units.append(("", f))
    return tuple(units)


@dataclass(frozen=True)
class Token:
    term: str
    start: int  # character offsets into the original text: Python str indices (code points)
    end: int
    cjk: bool = False


def tokens(text: str) -> list[Token]:
    """The text's terms in order (a term's position is its index here), with where each stands in `text`.

    Words and numbers are runs of letters and digits; each emoji (symbol) is a term; a CJK run of n >= 2
    characters is its n - 1 overlapping pairs, a one-character run that character. Everything else separates,
    so Markdown syntax (`**`, backticks, `>`, `[text](url)` brackets) is never a term; mentions `<@email>`
    are skipped whole.
    """
    hidden = [False] * len(text)
    for mention in MENTION.finditer(text):
        hidden[mention.start() : mention.end()] = [True] * (mention.end() - mention.start())
    found: list[Token] = []
    run: list[tuple[str, int]] = []  # (folded char, original index) of the current word or CJK run
    run_kind = ""

    def close():
        if run_kind == "w":
            found.append(Token("".join(c for c, _ in run)[:TERM_MAX], run[0][1], run[-1][1] + 1))
        elif run_kind == "c" and len(run) == 1:
            found.append(Token(run[0][0], run[0][1], run[0][1] + 1, True))
        elif run_kind == "c":
            for (a, i), (b, j) in zip(run, run[1:], strict=False):
                found.append(Token(a + b, i, j + 1, True))
        run.clear()

    for index, ch in enumerate(text):
        if hidden[index]:
            units = (("", " "),)
        else:
            units = fold(ch)
        for kind, c in units:
            if kind != run_kind or kind in ("s", ""):
                close()
                run_kind = kind
            if kind == "s":
                found.append(Token(c, index, index + 1))
            elif kind:
                run.append((c, index))
    close()
    return found


def terms(text: str) -> dict[str, list[int]]:
    """Each distinct term of the text with its positions: what the index stores (pure, for bulk loads too)."""
    positions: dict[str, list[int]] = {}
    for position, token in enumerate(tokens(text)):
        positions.setdefault(token.term, []).append(position)
    return positions


def fields(text: str) -> dict:
    """What a message document holds for the index: its terms and, in the same order, their positions."""
    found = terms(text)
    return {"k": list(found), "p": list(found.values())}


@dataclass(frozen=True)
class Atom:
    term: str
    prefix: bool = False  # matches any term starting with `term`


def parse_query(q: str) -> list[list[Atom]]:
    """Groups of atoms: every group must match, its atoms at consecutive positions; QueryError with the reason.

    A group is a quoted phrase or one space-separated chunk ("e-mail" is the phrase "e mail"; a CJK run is its
    pairs in order). The last word also matches as a prefix unless the query ends with a space or a quote.
    """
    if len(q) > QUERY_MAX:
        raise QueryError(f"q must be at most {QUERY_MAX} characters")
    if not q.strip():
        raise QueryError("q must not be empty")
    groups: list[list[Atom]] = []
    counted = 0
    for n, part in enumerate(q.split('"')):
        for chunk in [part] if n % 2 else part.split():
            found = tokens(chunk)
            # A CJK run counts as one term, however many pairs it makes.
            counted += sum(1 for a, b in zip([None, *found], found, strict=False) if not (b.cjk and a and a.cjk))
            if found:
                groups.append([Atom(t.term) for t in found])
    if counted > TERMS_MAX:
        raise QueryError(f"q must have at most {TERMS_MAX} terms")
    if not groups:
        raise QueryError("q has no searchable words")
    tail = groups[-1][-1]
    if not (q[-1].isspace() or q[-1] == '"' or is_cjk(tail.term[0])):
        groups[-1][-1] = Atom(tail.term, prefix=True)
    return groups


def match(doc: dict, groups: list[list[Atom]]) -> set[int] | None:
    """The positions the query matched in one index entry, or None when it does not match."""
    where = dict(zip(doc["k"], doc["p"], strict=False))
    matched: set[int] = set()
    for group in groups:
        sets = []
        for atom in group:
            if atom.prefix:
                found = {p for term, ps in where.items() if term.startswith(atom.term) for p in ps}
            else:
                found = set(where.get(atom.term, ()))
            if not found:
                return None
            sets.append(found)
        starts = [p for p in sets[0] if all(p + j in s for j, s in enumerate(sets[1:], 1))]
        if not starts:
            return None
        matched |= {p + j for p in starts for j in range(len(group))}
    return matched


def highlights(text: str, positions: set[int]) -> list[list[int]]:
    """[start, end) character ranges of the matched terms in `text`, merged where they overlap (CJK pairs)."""
    spans = sorted((t.start, t.end) for p, t in enumerate(tokens(text)) if p in positions)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


class Search:
    """The vocabulary's writes (the index is fields of the message, written by store/messages.py); the reads."""

    def __init__(self, db):
        self._db = db
        self._known: set[str] = set()  # words this process has seen in `words`
        self._generation = None  # `counters.words`: bumped by every deletion that forgets words
        self._checked = float("-inf")
        self._guard = threading.Lock()

    def fields(self, text: str) -> dict:
        """The index fields of a new or edited message (`k`, `p`); its words are added to the vocabulary first."""
        found = fields(text)
        self.learn(found["k"])
        return found

    def learn(self, words: list[str]) -> None:
        """Add new words to `words`, which prefixes expand through; outside the transaction (a word that is
        never committed costs nothing but a useless lookup). Words this process has seen there are skipped:
        a deletion that forgets words bumps `counters.words`, and a process that sees it changed (it asks at
        most every VOCABULARY_CHECK seconds) forgets what it knew, so a forgotten word comes back with the next
        message that holds it."""
        now = time.monotonic()
        if now - self._checked >= VOCABULARY_CHECK:
            doc = self._db.counters.find_one({"_id": "words"})
            generation = doc["n"] if doc else 0
            with self._guard:
                if generation != self._generation or len(self._known) > KNOWN_MAX:
                    self._known = set()
                    self._generation = generation
                self._checked = now
        known = self._known
        fresh = [w for w in words if w not in known and not is_cjk(w[0])]
        if not fresh:
            return
        try:
            self._db.words.insert_many([{"w": w} for w in fresh], ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise
        known.update(fresh)

    def forget(self, session, words) -> None:
        """Drop from the vocabulary the words no message holds any more (after the change that removed them,
        in its transaction), so a deleted text leaves no trace; tell every process's memory of words."""
        gone = False
        for word in words:
            if is_cjk(word[0]) or self._db.messages.find_one({"k": word}, {"_id": 1}, session=session) is not None:
                continue
            gone |= self._db.words.delete_one({"w": word}, session=session).deleted_count > 0
            self._known.discard(word)
        if gone:
            self._db.counters.update_one({"_id": "words"}, {"$inc": {"n": 1}}, upsert=True, session=session)

    # Reads.

    def expand(self, prefix: str) -> tuple[list[str], bool]:
        """The indexed words starting with `prefix`, shortest first, at most PREFIX_TERMS; and whether that is all."""
        docs = self._db.words.find({"w": {"$gte": prefix, "$lt": prefix + _HIGHEST}}, {"_id": 0, "w": 1})
        words = sorted((d["w"] for d in docs), key=lambda w: (len(w), w))
        return words[:PREFIX_TERMS], len(words) <= PREFIX_TERMS

    def search(
        self,
        user: str,
        groups: list[list[Atom]],
        limit: int = 20,
        before: int | None = None,
        roomid: str | None = None,
        sender: str | None = None,
    ) -> tuple[list[dict], int | None]:
        """Results in the user's rooms now (or in `roomid`: RoomGone / NotMember as for reading it), and `next`."""
        if roomid is None:
            rooms = {d["_id"]: d["name"] for d in self._db.rooms.find({"members": user}, {"name": 1})}
        else:
            view = {"name": 1, "visibility": 1, "members": {"$elemMatch": {"$eq": user}}}
            room = self._db.rooms.find_one({"_id": roomid}, view)
            if room is None or ("members" not in room and room.get("visibility") == "private"):
                raise RoomGone(roomid)  # private means invisible
            if "members" not in room:
                raise NotMember(roomid)
            rooms = {roomid: room["name"]}
        if not rooms:
            return [], None
        hits, after = self.find(rooms, groups, limit, before, sender)
        results = [
            {
                "roomid": doc["room"],
                "room_name": rooms[doc["room"]],
                "message": public_message({k: doc[k] for k in ("id", "m", "u", "t")}),
                "highlights": highlights(doc["m"], positions),
            }
            for doc, positions in hits
        ]
        return results, after

    def find(
        self,
        rooms: dict[str, str],
        groups: list[list[Atom]],
        limit: int,
        before: int | None = None,
        sender: str | None = None,
    ) -> tuple[list[dict], int | None]:
        """Up to `limit` matches in `rooms` (id -> name), newest first, below order `before`; and the next `before`.

        Reads windows of the order downward, each one query on (k, s) for the rarest term seen so far, sized from
        the densities seen so far so that a window reads about WINDOW_ENTRIES entries and a page PAGE_ENTRIES at
        most; the other terms, phrases and prefixes are checked on the entries read.
        """
        top = self._last_order() if before is None else min(before - 1, self._last_order())
        lookups: dict[str, list[str]] = {a.term: [a.term] for g in groups for a in g if not a.prefix}
        # The prefix can drive when it expands to few words (a rare last word), or must when it is alone;
        # past PREFIX_TERMS words the shortest are read (then a rarer long word may be missed).
        prefix = next((a.term for g in groups for a in g if a.prefix), None)
        if prefix is not None:
            words, complete = self.expand(prefix)
            if complete or not lookups:
                lookups["*" + prefix] = words
        seen = {term: [0, 0] for term in lookups}  # per lookup: entries read, over how many ids
        found: dict[tuple[str, int], tuple[dict, set[int]]] = {}
        hi, span, read, windows = top, 0, 0, 0
        width = max(8, FIRST_WINDOW * limit // 20)

        def density(term: str) -> float:
            return seen[term][0] / max(seen[term][1], 1)

        while len(found) < limit and hi > 0 and windows < MAX_WINDOWS and read < PAGE_ENTRIES:
            lo = max(0, hi - width)
            # The first window reads every term, to learn which is rarest; then only the rarest.
            chosen = list(lookups) if windows == 0 else [min(lookups, key=density)]
            for term in chosen:
                batch = []
                for word in lookups[term]:
                    batch += self._db.messages.find({"k": word, "act": {"$gt": lo, "$lte": hi}}, FIELDS)
                seen[term][0] += len(batch)
                seen[term][1] += hi - lo
                read += len(batch)
                for doc in batch:
                    if doc["room"] in rooms and (sender is None or doc["u"] == sender):
                        positions = match(doc, groups)
                        if positions is not None:
                            found[(doc["room"], doc["id"])] = (doc, positions)
            span += hi - lo
            hi, windows = lo, windows + 1
            # Wide enough for the rest of the page at the match density so far, growing at most 16 times (64
            # while the rarest term is unseen), and not so wide that its density predicts over WINDOW_ENTRIES.
            rarest = min(lookups, key=density)
            grown = width * (64 if not seen[rarest][0] else 16)
            wanted = (limit - len(found)) * span // len(found) if found else grown
            width = max(8, min(grown, wanted, int(WINDOW_ENTRIES / max(density(rarest), 1e-12))))
        ordered = sorted(found.values(), key=lambda pair: pair[0]["act"], reverse=True)
        if len(ordered) > limit:
            return ordered[:limit], ordered[limit - 1][0]["act"]
        return ordered, (hi + 1 if hi > 0 else None)

    def _last_order(self) -> int:
        doc = self._db.counters.find_one({"_id": "activity"})
        return doc["n"] if doc else 0
