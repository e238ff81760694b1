"""Anchoring: each quote is found in its seed, whatever the whitespace, quote marks, dashes and
Unicode form, and the span always points at the seed's own characters."""

import re
import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sitegen.anchoring import (
    FOLD,
    SPECIAL_WHITESPACE,
    WHITESPACE,
    _fold_whitespace,
    _whitespace_runs,
    anchor_notes,
    normalise_quote,
    normalise_seed,
    note_ids,
)
from sitegen.annotations import heading_text, parse_quote
from sitegen.model import Location, Note
from sitegen.seeds import parse_seed

from .conftest import SAMPLE_SEED, SAMPLE_SEED_NAME

SAMPLE, _ = parse_seed(f"seeds/{SAMPLE_SEED_NAME}", SAMPLE_SEED)


def note(heading: str, line: int = 10) -> Note:
    quote, problem = parse_quote("content/a.md", line, f"## {heading}")
    assert problem is None, problem
    return Note(quote, "body", Location("content/a.md", line, 1))


def place(seed, *headings):
    anchors, problems = anchor_notes(seed, tuple(note(h) for h in headings))
    return anchors, problems


def spans(seed, anchors):
    return [seed.text[a.start : a.end] for a in anchors]


def test_exact_quote_anchors_on_its_words():
    anchors, problems = place(SAMPLE, '"an incident like one in 2001"')
    assert problems == []
    assert spans(SAMPLE, anchors) == ["an incident like one in 2001"]


def test_brackets_highlight_only_their_words_but_the_context_must_match():
    anchors, _ = place(SAMPLE, '"defence minister, [Li Shangfu]"')
    assert spans(SAMPLE, anchors) == ["Li Shangfu"]
    _, problems = place(SAMPLE, '"defense minister, [Li Shangfu]"')
    assert "not found" in problems[0].message


def test_occurrence_number_picks_the_nth_match_left_to_right():
    first, _ = place(SAMPLE, '"military communication" #1')
    second, _ = place(SAMPLE, '"military communication" #2')
    assert first[0].start < second[0].start
    assert SAMPLE.text[second[0].start : second[0].end] == "military communication"


def test_overlapping_matches_count_as_occurrences():
    seed, _ = parse_seed("seeds/b.txt", b"aaaa")
    anchors, problems = place(seed, '"aa" #3')
    assert problems == []
    assert (anchors[0].start, anchors[0].end) == (2, 4)


def test_quote_matches_inside_words():
    anchors, _ = place(SAMPLE, '"linken has wrapp"')
    assert spans(SAMPLE, anchors) == ["linken has wrapp"]


def test_curly_quotes_dashes_and_extra_whitespace_are_ignored_and_the_page_keeps_the_seed():
    seed, _ = parse_seed("seeds/b.txt", 'He said \u201cno\u201d \u2014 twice,\nand it\u2019s final.'.encode())
    anchors, problems = place(seed, '"said "no" - twice, and it\'s"')
    assert problems == []
    assert spans(seed, anchors) == ["said \u201cno\u201d \u2014 twice,\nand it\u2019s"]


def test_unicode_normal_forms_match_each_other():
    seed, _ = parse_seed("seeds/b.txt", unicodedata.normalize("NFD", "The café opened.").encode())
    anchors, problems = place(seed, '"café opened"')
    assert problems == []
    assert unicodedata.normalize("NFC", spans(seed, anchors)[0]) == "café opened"


def test_matching_is_case_sensitive_and_the_hint_says_so():
    _, problems = place(SAMPLE, '"AN INCIDENT like one in 2001"')
    assert "not found" in problems[0].message
    assert "case-sensitive" in problems[0].hint
    assert '"an incident like one in 2001"' in problems[0].hint


def test_not_found_hints_the_nearest_words_and_their_line():
    _, problems = place(SAMPLE, '"an incident like one in 2002"')
    [problem] = problems
    assert str(problem.where) == "content/a.md:10:4"
    assert problem.message == f'quote "an incident like one in 2002" not found in seeds/{SAMPLE_SEED_NAME}'
    assert problem.hint == f'did you mean "an incident like one in 2001" (seeds/{SAMPLE_SEED_NAME}:25)?'


def test_ambiguous_quote_lists_every_occurrence_line():
    _, problems = place(SAMPLE, '"military communication"')
    [problem] = problems
    assert "ambiguous" in problem.message
    assert "4 times" in problem.message and "(lines 3, 5, 7, 31)" in problem.message
    assert "#1" in problem.hint and "[brackets]" in problem.hint


def test_occurrence_out_of_range():
    _, problems = place(SAMPLE, '"Hainan" #3')
    assert "#3" in problems[0].message and "only 2 times" in problems[0].message


def test_quote_spanning_two_paragraphs_is_an_error():
    _, problems = place(SAMPLE, '"province. But the problem"')
    assert "spans two paragraphs" in problems[0].message


def test_zero_width_and_ligature_characters_are_named_in_the_hint():
    _, problems = place(SAMPLE, '"an incident\u200b like"', '"Chinese \ufb01ghter"')
    assert "U+200B" in problems[0].hint
    assert "ligature" in problems[1].hint


def test_headings_that_are_not_quotes_or_are_empty_are_rejected():
    for heading, words in (("Hainan", "not a quote"), ('""', "empty quote"), ('"a [b"', "brackets"),
                           ('"a []b"', "no words"), ('"x" #0', "#0")):
        _, problem = parse_quote("content/a.md", 3, f"## {heading}")
        assert words in problem.message, heading


def test_numbers_follow_where_spans_end_then_where_they_start():
    seed, _ = parse_seed("seeds/b.txt", b"alpha beta gamma delta")
    anchors, _ = place(seed, '"gamma"', '"beta gamma"', '"alpha"', '"alpha beta gamma"')
    by_number = sorted(anchors, key=lambda a: a.number)
    assert spans(seed, by_number) == ["alpha", "alpha beta gamma", "beta gamma", "gamma"]


def test_note_ids_come_from_the_quote_and_survive_other_notes():
    alone, _ = place(SAMPLE, '"an incident like one in 2001"')
    crowded, _ = place(SAMPLE, '"Hainan" #1', '"an incident like one in 2001"')
    assert alone[0].id == "note-an-incident-like-one-in-2001"
    assert alone[0].id in {a.id for a in crowded}


def test_equal_quotes_get_distinct_deterministic_ids():
    anchors, _ = place(SAMPLE, '"Li Nan"', '"Li Nan"')
    assert sorted(a.id for a in anchors) == ["note-li-nan", "note-li-nan--v2"]


# The property: any span of any paragraph, quoted back with normalisation variants, anchors to
# exactly that span (with the right #N when it occurs more than once).

WORDS = st.sampled_from(["war", "ship", "it\u2019s", "\u201cno\u201d", "US\u2013China", "caf\u00e9",
                         "9\u22123", "a", "aa", "\u2018x\u2019", "-", "ok.", "why?"])
SEPARATORS = st.sampled_from([" ", " ", "  ", "\n", "\t "])
PARAGRAPH = st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=12).map(
    lambda pairs: "".join(word + sep for word, sep in pairs).strip())
VARIANTS = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2212": "-"}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=st.lists(PARAGRAPH, min_size=1, max_size=4), data=st.data())
def test_any_span_quoted_back_anchors_to_itself(paragraphs, data):
    text = "\n\n".join(paragraphs)
    seed, problems = parse_seed("seeds/p.txt", unicodedata.normalize("NFD", text).encode())
    assume(seed is not None)
    block = data.draw(st.sampled_from(seed.blocks))
    start = data.draw(st.integers(block.start, block.end - 1))
    end = data.draw(st.integers(start + 1, block.end))
    span = seed.text[start:end]
    assume(span.strip() == span and not unicodedata.combining(span[0]))
    assume(end == len(seed.text) or not unicodedata.combining(seed.text[end]))
    quoted = "".join(VARIANTS.get(char, char) if data.draw(st.booleans()) else char
                     for char in unicodedata.normalize("NFC", span))
    quoted = " ".join(quoted.split())
    assume(not any(char in quoted for char in "[]"))
    found = set()
    for number in range(1, 50):
        anchors, problems = place(seed, f'"{quoted}" #{number}')
        if problems:
            break
        found.add((anchors[0].start, anchors[0].end))
    assert (start, end) in found


def test_normalised_offsets_map_back_to_seed_characters():
    text = "a  b\n\n\u201cc\u201d\u2014d  e\u0301"
    folded = normalise_seed(text)
    assert folded.text == 'a b\n"c"-d e\u0301'.replace("e\u0301", "\u00e9")
    index = folded.text.index('"c"')
    assert text[folded.start_in_seed(index) : folded.end_in_seed(index + 3)] == "\u201cc\u201d"


@settings(max_examples=500)
@given(st.text(alphabet=" \n\t\r\x0b\x0c\x1fab\u00e9\u2019", max_size=40))
def test_whitespace_runs_are_those_of_the_regular_expression(text):
    expected = [(found.start(), found.end(), _fold_whitespace(found[0]))
                for found in SPECIAL_WHITESPACE.finditer(text)]
    assert _whitespace_runs(text) == expected


# heading_text reads headings as this regular expression did (CommonMark's ATX heading, level 2).
HEADING_PATTERN = re.compile(r" {0,3}##(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")


@settings(max_examples=1000)
@given(st.text(alphabet=' \t#"ab2\u201c', max_size=14))
def test_heading_text_is_what_the_heading_pattern_reads(line):
    for candidate in (line, "##" + line, " ## " + line, '## "a' + line):
        found = HEADING_PATTERN.fullmatch(candidate)
        assert heading_text(candidate) == ((found[1] or "") if found else None), candidate


def test_a_long_quote_gives_an_id_of_its_first_whole_words_within_40_characters():
    heading = '## "the visit ended without any agreement on restoring military channels"'
    quote, _ = parse_quote("c.md", 1, heading)
    [note_id] = note_ids([Note(quote, "body", Location("c.md", 1, 1))])
    assert note_id == "note-the-visit-ended-without-any-agreement-on"
    assert len(note_id.removeprefix("note-")) <= 40


@settings(max_examples=500)
@given(st.text(alphabet=' \t\n\u00a0\u2009\u3000ab"\u201c\u2019-\u2014e\u0301', max_size=20))
def test_a_quote_folds_as_its_seed_does(text):
    """Whatever its characters, a whole quote folds (and collapses its spaces) like seed text."""
    assume(text.strip())
    folded, start, end = normalise_quote(text, 0, len(text))
    expected = WHITESPACE.sub(" ", unicodedata.normalize("NFC", text).translate(FOLD)).strip()
    assert (folded, start, end) == (expected, 0, len(expected))
