"""Deterministic synthetic corpus for benchmarking sitegen.

    python bench/corpus.py DIR N

writes a complete site into DIR: `sitegen.toml`, N seeds (`seeds/NNNNN_xxxxxxxx.txt`, ~2.6 KB,
12-14 paragraphs of which 2-3 are subheadings, dated 2015-2024), N annotation files
(`content/aNNNNN.md`, 8 notes each, every quote a unique 3-8 word span of its seed) and 50 context
entries (`content/context/ctx-K.md`).

Everything comes from `random.Random` with fixed seeds and no network access, so the same N gives
byte-identical files on every machine. Article i depends only on i, so the first 1,000 articles of
a 10,000-article corpus are the 1,000-article corpus. That also lets the articles be written by
several processes at once (one per core), in chunks, with the same bytes as one process writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CORPUS_VERSION = 1
BASE_SEED = 20_240_601
CONTEXT_COUNT = 50
NOTES_PER_ARTICLE = 8

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


NOUNS = _words("""
agreement alliance ambassador analyst archive audit balloon bank barrier blockade border
budget bureau cabinet campaign canal cargo ceasefire census channel charter coalition
commission committee company compromise conference contract convoy corridor council court
crisis currency customs deadline debt decree delegation deposit deputy destroyer dialogue
directive dispute district doctrine drill drought election embargo embassy emission envoy
estimate exchange exercise export facility factory ferry festival fishery forecast forum
freighter frontier garrison grain grid guideline harbour hearing highway hotline inquiry
inspector institute interceptor inventory investor island journalist judge junta lawmaker
levy licence loan manifesto mandate manoeuvre market memorandum merger militia minister
mission monitor moratorium negotiator network observer official operator outpost parliament
patrol pension pilot pipeline platform police policy port prosecutor protest province quota
railway reactor referendum refinery reform regulator report reservoir resolution revenue
ruling runway sanction satellite scandal senator settlement shipment shipyard subsidy
summit supplier surplus survey tanker tariff terminal treaty tribunal truce tunnel union
verdict vessel veto visa voucher warehouse warship watchdog
""")

ADJECTIVES = _words("""
abrupt ageing ambitious annual anxious bilateral binding bitter bold brief broad cautious
central coastal coordinated costly crucial delicate disputed domestic drawn-out eastern
emergency expanded extended fragile frozen full-scale gradual heated high-level informal
interim joint landmark lengthy limited local long-delayed low-key maritime modest narrow
national northern official ongoing open-ended overdue partial pivotal provisional quiet
rare regional renewed rival rural secret sensitive sharp southern sprawling steep strategic
sudden sweeping symbolic technical temporary tense tentative unexpected unpopular unusual
urgent vague vast volatile western wide-ranging
""")

VERBS = [  # (base, past)
    ("approve", "approved"), ("block", "blocked"), ("challenge", "challenged"),
    ("delay", "delayed"), ("expand", "expanded"), ("freeze", "froze"), ("halt", "halted"),
    ("inspect", "inspected"), ("launch", "launched"), ("postpone", "postponed"),
    ("reject", "rejected"), ("restore", "restored"), ("revise", "revised"), ("review", "reviewed"),
    ("suspend", "suspended"), ("sign", "signed"), ("extend", "extended"), ("cancel", "cancelled"),
    ("announce", "announced"), ("defend", "defended"), ("question", "questioned"),
    ("renegotiate", "renegotiated"), ("finance", "financed"), ("monitor", "monitored"),
    ("tighten", "tightened"), ("loosen", "loosened"), ("relocate", "relocated"),
    ("dismantle", "dismantled"), ("overhaul", "overhauled"), ("endorse", "endorsed"),
    ("condemn", "condemned"), ("welcome", "welcomed"), ("audit", "audited"),
    ("investigate", "investigated"), ("reopen", "reopened"), ("close", "closed"),
    ("abandon", "abandoned"), ("accelerate", "accelerated"), ("cap", "capped"),
    ("redraw", "redrew"), ("seize", "seized"), ("escort", "escorted"), ("intercept", "intercepted"),
    ("ratify", "ratified"), ("veto", "vetoed"), ("publish", "published"), ("leak", "leaked"),
    ("raise", "raised"), ("cut", "cut"), ("double", "doubled"), ("halve", "halved"),
]

ADVERBS = _words("""
abruptly briefly cautiously quietly repeatedly sharply steadily formally publicly privately
largely partly narrowly openly reluctantly swiftly gradually firmly jointly
""")

FIRST_NAMES = _words("""
Amira Bao Carlos Dana Elif Farid Greta Hiroshi Ines Jamal Katya Lars Mei Nadia Omar Priya
Quentin Rosa Samir Tomas Ulla Viktor Wen Ximena Yusuf Zofia Adaeze Bruno Chiara Dmitri Esther
Felipe Hana Ivo Joon Leila Marek Nkechi Oskar Paulina
""")

LAST_NAMES = _words("""
Abara Bergstrom Castellanos Dvorak Eriksen Fujimoto Gallardo Haddad Ilunga Jovanovic Kowalski
Lindqvist Moreau Nakamura Okafor Petrov Quispe Rahman Santoro Takahashi Uchenna Varga Wojcik
Xu Yilmaz Zapata Achebe Brennan Chaudhry Delacroix Esposito Fontaine Grigoryan Horvat Ivanova
Jaramillo Kimura Laurent Mensah Novak Ortega Pereira Rossi Szabo Tanaka Urquhart Volkov
""")

ROLES = _words("""
spokesperson director chair deputy-head adviser secretary-general treasurer commissioner
rapporteur negotiator envoy analyst economist researcher historian
""")

ORGS = [
    "Ministry of Transport", "Port Authority", "Central Bank", "Coastal Guard", "Trade Council",
    "Audit Office", "Energy Board", "Fisheries Agency", "Maritime Institute", "Supreme Court",
    "Election Commission", "Defence Ministry", "Interior Ministry", "Customs Service",
    "Water Authority", "Rail Corporation", "Planning Bureau", "Statistics Office",
    "Grain Exchange", "Shipping Registry", "Budget Committee", "Foreign Office",
    "Harbour Board", "Mining Directorate", "Labour Federation", "Pension Fund",
]

PLACES = [
    "Varnholm", "Ostrava", "Kelmarsh", "Tiranos", "Belgrove", "Saint-Aubert", "Dunmara",
    "Porto Velho", "Kastelli", "Lindau", "Marrow Bay", "Oruma", "Zelany", "Rostvik", "Calderon",
    "Ashgrove", "Nuvola", "Qasr Amin", "Tovara", "Westerly", "Pelagia", "Brennick", "Sorrel Coast",
    "Haldane", "Imbros", "Jutland", "Karsavina", "Lusana", "Merrow", "Nastra", "Olvera", "Pranth",
    "Quillan", "the Ravenna Strait", "Solvang", "Tesmar", "Umbria Heights", "Valdor", "Wexham",
    "Yarrow", "Zennor",
]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

SYLLABLES = _words("""
ka ro mi ten vas lor bel dan fi gu har is jon kel lum mar nes ol pav qui ras sel tor ul ven
wis xan yor zel ash bri cor del eth fen gal hol ivo jar kos lin mor nor ost pel rin sar tev
""")

TAGS = [
    "Trade", "Energy", "Shipping", "Elections", "Courts", "Fisheries", "Defence", "Diplomacy",
    "Climate", "Budget", "Labour", "Pensions", "Railways", "Ports", "Customs", "Mining",
    "Water", "Agriculture", "Banking", "Currency", "Sanctions", "Borders", "Migration",
    "Health", "Housing", "Media", "Technology", "Telecoms", "Aviation", "Tourism",
    "Public Spending", "Corruption", "Protests", "Local Government", "Human Rights",
    "Infrastructure", "Nuclear Power", "Satellites", "Arms Control", "Census",
]

EMPHASES = ["not", "before", "only", "after", "twice", "never", "formally", "also", "still",
            "first"]
LINK_TOPICS = ["background", "timeline", "explainer", "archive", "documents", "data", "report",
               "glossary", "profile", "analysis"]


PARTICIPLES = {"froze": "frozen", "redrew": "redrawn"}


def participle(past: str) -> str:
    return PARTICIPLES.get(past, past)


def plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def article_of(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def invent_name(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


class Writer:
    """Sentence factory for one article: its own focal place, people and numbers."""

    def __init__(self, rng: random.Random, token: str) -> None:
        self.rng = rng
        self.token = token  # the article's invented focal place: helps quotes be unique
        self.people = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(4)]
        self.orgs = rng.sample(ORGS, 4)
        self.places = [token, *rng.sample(PLACES, 5)]

    # small pieces ------------------------------------------------------------------------
    def noun(self) -> str:
        return self.rng.choice(NOUNS)

    def adj(self) -> str:
        return self.rng.choice(ADJECTIVES)

    def np(self) -> str:
        """A noun phrase with its determiner."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return f"the {self.adj()} {self.noun()}"
        if roll < 0.55:
            adjective = self.adj()
            return f"{article_of(adjective)} {adjective} {self.noun()}"
        if roll < 0.75:
            return f"the {self.noun()} in {self.place()}"
        if roll < 0.9:
            return f"{rng.randint(2, 48)} {plural(self.noun())}"
        return f"the {self.org()}'s {self.noun()}"

    def place(self) -> str:
        return self.places[0] if self.rng.random() < 0.3 else self.rng.choice(self.places)

    def org(self) -> str:
        return self.rng.choice(self.orgs)

    def person(self) -> str:
        return self.rng.choice(self.people)

    def when(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return f"in {rng.choice(MONTHS)} {rng.randint(1994, 2024)}"
        if roll < 0.55:
            return f"on {rng.choice(WEEKDAYS)}"
        if roll < 0.75:
            return f"{rng.randint(2, 19)} {rng.choice(['days', 'weeks', 'months', 'years'])} earlier"
        return f"since {rng.randint(1990, 2023)}"

    def verb(self) -> tuple[str, str]:
        return self.rng.choice(VERBS)

    # sentences ---------------------------------------------------------------------------
    def sentence(self) -> str:
        rng = self.rng
        kind = rng.randrange(12)
        base, past = self.verb()
        if kind == 0:
            text = (f"Officials in {self.place()} {past} {self.np()} {self.when()}, "
                    f"citing {self.adj()} concerns over {self.np()}")
        elif kind == 1:
            text = (f"{self.person()}, {rng.choice(ROLES).replace('-', ' ')} at the {self.org()}, "
                    f"said the {self.noun()} would {base} {self.np()} by {rng.choice(MONTHS)}")
        elif kind == 2:
            text = (f"The {self.noun()} had been {rng.choice(ADVERBS)} {participle(past)} "
                    f"{self.when()}, when "
                    f"{rng.randint(3, 900)} {plural(self.noun())} reached {self.place()}")
        elif kind == 3:
            other = self.verb()[0]
            text = (f"\"We will not {base} {self.np()} while {self.np()} remains {self.adj()},\" "
                    f"{self.person()} told reporters, adding that the {self.org()} would {other} it")
        elif kind == 4:
            text = (f"According to the {self.org()}, {rng.randint(2, 97)} percent of "
                    f"{plural(self.noun())} in {self.place()} were {participle(past)} {self.when()}")
        elif kind == 5:
            text = (f"Critics say {self.np()} {past} {self.np()} without consulting "
                    f"the {self.org()} or {self.np()}")
        elif kind == 6:
            text = (f"The {self.org()} {rng.choice(ADVERBS)} {past} {self.np()}, a move "
                    f"{self.person()} described as {self.adj()}")
        elif kind == 7:
            text = (f"In {self.place()}, {self.np()} and {self.np()} {past} "
                    f"{self.np()} {self.when()}")
        elif kind == 8:
            amount = f"{rng.randint(11, 940)}.{rng.randint(0, 9)} million"
            text = (f"The {self.adj()} {self.noun()} is expected to cost {amount} "
                    f"{rng.choice(['euros', 'dollars', 'francs', 'crowns'])}, "
                    f"{rng.choice(['twice', 'three times', 'half', 'far more than'])} the first "
                    f"{self.noun()} for {self.place()}")
        elif kind == 9:
            text = (f"Few expected the {self.org()} to {base} the {self.noun()} so "
                    f"{rng.choice(ADVERBS)}, {self.person()} said {self.when()}")
        elif kind == 10:
            text = (f"{self.np().capitalize()} near {self.place()} was {participle(past)} after "
                    f"{self.np()} {self.verb()[1]} {self.np()}")
        else:
            first, second = rng.sample(self.orgs, 2)
            text = (f"Talks between the {first} and the {second} over {self.np()} "
                    f"{rng.choice(['stalled', 'resumed', 'collapsed', 'continued'])} {self.when()}")
        return text[0].upper() + text[1:] + "."

    def question(self) -> str:
        rng = self.rng
        base, _ = self.verb()
        options = [
            f"Why did the {self.org()} {base} the {self.noun()}?",
            f"What is at stake for {self.place()}?",
            f"Who decides on the {self.adj()} {self.noun()}?",
            f"How did the {self.noun()} in {self.place()} begin?",
            f"What happens to the {plural(self.noun())} next?",
            f"Why does {self.person()} want to {base} it?",
        ]
        return rng.choice(options)

    def paragraph(self, target: int) -> str:
        sentences = [self.sentence()]
        while len(" ".join(sentences)) < target:
            sentences.append(self.sentence())
        return " ".join(sentences)

    # annotation prose --------------------------------------------------------------------
    def note_body(self, slug: str, number: int, contexts: int) -> str:
        """250-400 characters of Markdown: an emphasis, a link, sometimes a [[ctx-K]] citation."""
        rng = self.rng
        for _attempt in range(100):
            emphasis = rng.choice(EMPHASES)
            topic = rng.choice(LINK_TOPICS)
            url = f"https://example.org/{topic}/{slug}-{number}"
            openers = [
                f"The {self.noun()} was *{emphasis}* the first of its kind: {self.np()} "
                f"{self.verb()[1]} {self.np()} {self.when()}.",
                f"This refers to {self.np()}, which the {self.org()} {self.verb()[1]} "
                f"*{emphasis}* {self.when()}.",
                f"The report leaves out that {self.np()} had {emphasis} been "
                f"**{participle(self.verb()[1])}** {self.when()}, long before {self.np()} did the same.",
                f"{self.person()} of the {self.org()} is *{emphasis}* the only source here; "
                f"{self.np()} {self.verb()[1]} {self.np()} {self.when()}.",
            ]
            closers = [
                f"The [{self.org()} {topic}]({url}) sets out how the {self.noun()} was "
                f"{participle(self.verb()[1])}.",
                f"{article_of(topic).capitalize()} [{topic} published in "
                f"{rng.randint(1995, 2024)}]({url}) gives the figures "
                f"for {self.place()}.",
                f"Details are in the [{topic} on {self.place()}]({url}).",
            ]
            parts = [rng.choice(openers), rng.choice(closers)]
            if rng.random() < 0.7:
                parts.append(f"{self.person()} later {self.verb()[1]} {self.np()}.")
            if rng.random() < 0.2:
                parts.append(f"See [[ctx-{rng.randint(1, contexts)}]].")
            if rng.random() < 0.25:
                parts.insert(1, "\n")
            body = " ".join(parts).replace(" \n ", "\n\n")
            if 250 <= len(body) <= 400:
                return body
        raise RuntimeError("could not write a note body of 250-400 characters")


# --------------------------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------------------------

FIRST_DAY = dt.date(2015, 1, 1).toordinal()
LAST_DAY = dt.date(2024, 12, 31).toordinal()


def _quote(rng: random.Random, paragraph: str, seed_text: str, taken: set[str]) -> str | None:
    """A 3-8 word span of one sentence of the paragraph that occurs exactly once in the seed."""
    sentences = [sentence.split(" ") for sentence in paragraph.split(". ")]
    for _attempt in range(60):
        words = rng.choice(sentences)
        length = rng.randint(3, 8)
        if len(words) < length:
            continue
        start = rng.randrange(len(words) - length + 1)
        span = " ".join(words[start : start + length]).strip(",.;:")
        if any(char in span for char in '"[]#') or len(span.split()) < 3:
            continue
        if span in taken or seed_text.count(span) != 1:
            continue
        return span
    return None


def make_article(index: int, contexts: int = CONTEXT_COUNT) -> tuple[str, str, str]:
    """(seed file name, seed text, annotation text) of article `index`; depends on index only."""
    rng = random.Random(BASE_SEED * 1_000_003 + index)
    token = invent_name(rng, rng.choice((2, 3)))
    writer = Writer(rng, token)
    date = dt.date.fromordinal(rng.randint(FIRST_DAY, LAST_DAY))
    name = f"{index:05d}_{rng.getrandbits(32):08x}.txt"
    slug = f"a{index:05d}"

    body_count = rng.randint(10, 11)
    heading_count = rng.randint(2, 3)
    size = rng.randint(2450, 2750)
    per_paragraph = (size - 45 * heading_count) // body_count
    heading_at = sorted(rng.sample(range(2, body_count), heading_count))
    blocks: list[tuple[str, str]] = []
    for position in range(body_count):
        if position in heading_at:
            blocks.append(("h", writer.question()))
        blocks.append(("p", writer.paragraph(per_paragraph - 55 + rng.randint(-30, 30))))
    for kind, text in blocks:
        assert kind == "p" or (len(text) <= 100 and text.endswith("?"))
        assert kind == "h" or not text.endswith("?")
    seed_text = f"date {date.isoformat()} " + "\n\n".join(text for _, text in blocks) + "\n"

    # one note per paragraph, in 8 different paragraphs, each quote unique in the seed
    paragraphs = [text for kind, text in blocks if kind == "p"]
    order = rng.sample(range(len(paragraphs)), len(paragraphs))
    quotes: list[str] = []
    taken: set[str] = set()
    for position in order:
        if len(quotes) == NOTES_PER_ARTICLE:
            break
        quote = _quote(rng, paragraphs[position], seed_text, taken)
        if quote:
            quotes.append(quote)
            taken.add(quote)
    if len(quotes) != NOTES_PER_ARTICLE:
        raise RuntimeError(f"article {index}: found only {len(quotes)} unique quotes")

    tags = rng.sample(TAGS, 3)
    title = f"{token}: the {writer.adj()} {writer.noun()} and what came after"
    summary = (f"How {writer.np()} in {token} {writer.verb()[1]} {writer.np()}, "
               f"and the background the report leaves out.")
    preface = (f"These notes explain the {writer.noun()} behind this {date.year} report "
               f"and link to [[ctx-{rng.randint(1, contexts)}]] for the longer story.")
    lines = [
        "---",
        f"seed: {name}",
        f'title: "{title}"',
        f'summary: "{summary}"',
        f"tags: [{', '.join(tags)}]",
        'annotator: "Benchmark desk"',
        "---",
        preface,
        "",
    ]
    for number, quote in enumerate(quotes, start=1):
        lines += [f'## "{quote}"', writer.note_body(slug, number, contexts), ""]
    return name, seed_text, "\n".join(lines)


def make_context(number: int, contexts: int = CONTEXT_COUNT) -> str:
    rng = random.Random(BASE_SEED * 7_919 + number)
    writer = Writer(rng, invent_name(rng))
    year = rng.randint(1990, 2023)
    title = f"The {writer.adj()} {writer.noun()} of {writer.places[0]} ({year})"
    summary = f"What happened when {writer.np()} {writer.verb()[1]} {writer.np()} in {year}."
    paragraphs = [writer.paragraph(rng.randint(250, 400)) for _ in range(rng.randint(2, 3))]
    if rng.random() < 0.6:
        other = rng.choice([k for k in range(1, contexts + 1) if k != number])
        paragraphs.append(f"For the wider background see [[ctx-{other}]].")
    return "\n".join(["---", f'title: "{title}"', f'summary: "{summary}"', "---",
                      "\n\n".join(paragraphs), ""])


def stamp(n: int) -> str:
    """Identifies a generated corpus: the generator's version and source, and its size."""
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"sitegen-bench-corpus version={CORPUS_VERSION} generator={source} n={n}\n"


STAMP_FILE = ".corpus-stamp"


CHUNK = 1_000  # articles per task when writing in parallel: ~1 s of work, few tasks to schedule


def write_articles(root: str, start: int, stop: int) -> None:
    """Write the seeds and annotation files of articles start..stop-1 (a task of make_corpus)."""
    seeds, content = Path(root) / "seeds", Path(root) / "content"
    for index in range(start, stop):
        name, seed_text, annotation = make_article(index)
        (seeds / name).write_text(seed_text, encoding="utf-8")
        (content / f"a{index:05d}.md").write_text(annotation, encoding="utf-8")


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def make_corpus(root: Path, n: int, jobs: int | None = None) -> None:
    """Write an n-article site into root (created if needed); existing files are overwritten.

    Articles are written by `jobs` processes (default: one per usable core): at ~1.2 ms per article
    100,000 would take two and a half minutes in one. The stamp is written last, so a corpus whose
    generation was interrupted is never taken for a complete one.
    """
    root = Path(root)
    seeds, content = root / "seeds", root / "content"
    (content / "context").mkdir(parents=True, exist_ok=True)
    seeds.mkdir(parents=True, exist_ok=True)
    (root / "sitegen.toml").write_text(
        f'title = "Benchmark corpus ({n:,} articles)"\n'
        'base_url = "https://bench.example.org/sitegen/"\n'
        'description = "Synthetic annotated articles for timing sitegen builds."\n',
        encoding="utf-8")
    for number in range(1, CONTEXT_COUNT + 1):
        (content / "context" / f"ctx-{number}.md").write_text(make_context(number), encoding="utf-8")
    chunks = [(str(root), start, min(start + CHUNK, n)) for start in range(0, n, CHUNK)]
    jobs = min(jobs or default_jobs(), len(chunks))
    if jobs <= 1:
        for chunk in chunks:
            write_articles(*chunk)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for _ in pool.map(write_articles, *zip(*chunks, strict=True)):
                pass  # re-raises a worker's exception here
    (root / STAMP_FILE).write_text(stamp(n), encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python bench/corpus.py DIR N", file=sys.stderr)
        return 2
    root, n = Path(argv[0]), int(argv[1])
    make_corpus(root, n)
    print(f"wrote {n:,} articles and {CONTEXT_COUNT} context entries into {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
