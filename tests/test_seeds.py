"""Seed files: encoding, the date token, paragraphs and subheadings."""

import datetime as dt

from sitegen.seeds import NOT_TEXT, decode_text, parse_seed, slug_from_name


def parse(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_seed("seeds/a.txt", data)


def blocks(seed):
    return [(block.kind, seed.text[block.start : block.end]) for block in seed.blocks]


def test_date_token_is_read_and_the_rest_of_its_line_starts_the_first_paragraph():
    seed, problems = parse(" date 2023-06-21 First words.\n\nSecond paragraph.")
    assert problems == []
    assert seed.date == dt.date(2023, 6, 21)
    assert seed.text.startswith("First words.")
    assert blocks(seed) == [("p", "First words."), ("p", "Second paragraph.")]


def test_seed_without_date_token_is_undated():
    seed, _ = parse("Just text.")
    assert seed.date is None
    assert seed.text == "Just text."


def test_single_newline_is_a_soft_wrap_inside_one_paragraph():
    seed, _ = parse("One line\nwrapped here.\n\nNext.")
    assert blocks(seed) == [("p", "One line\nwrapped here."), ("p", "Next.")]


def test_blank_line_with_spaces_still_separates_paragraphs():
    seed, _ = parse("One.\n   \t\nTwo.")
    assert [text for _, text in blocks(seed)] == ["One.", "Two."]


def test_short_one_line_question_is_a_subheading():
    seed, _ = parse("Intro.\n\nWhy does it matter?\n\nBecause.")
    assert blocks(seed)[1] == ("h2", "Why does it matter?")


def test_long_or_wrapped_questions_are_paragraphs():
    long_question = "Why " + "very " * 30 + "long?"
    seed, _ = parse(f"Intro.\n\n{long_question}\n\nIs this\nwrapped?")
    assert [kind for kind, _ in blocks(seed)] == ["p", "p", "p"]


def test_bom_crlf_and_cr_give_the_same_seed_as_lf():
    plain, _ = parse("date 2023-01-02 A b.\n\nWhy?\n\nC d.\n")
    for variant in (b"\xef\xbb\xbfdate 2023-01-02 A b.\n\nWhy?\n\nC d.\n",
                    b"date 2023-01-02 A b.\r\n\r\nWhy?\r\n\r\nC d.\r\n",
                    b"date 2023-01-02 A b.\r\rWhy?\r\rC d.\r"):
        seed, problems = parse(variant)
        assert problems == []
        assert (seed.text, seed.blocks, seed.date) == (plain.text, plain.blocks, plain.date)


def test_invalid_utf8_names_the_byte_offset_line_and_column():
    seed, problems = parse(b"date 2023-01-02 ok\n\nbad \x93quote")
    assert seed is None
    [problem] = problems
    assert str(problem.where) == "seeds/a.txt:3:5"
    assert "byte offset 24" in problem.message
    assert problem.hint == "re-save the file as UTF-8"


def test_utf16_file_is_named_as_such():
    _, problems = parse("hello".encode("utf-16"))
    assert "UTF-16" in problems[0].message


def test_impossible_date_is_an_error_at_the_date():
    seed, problems = parse("date 2023-02-30 Text.")
    assert seed is None
    assert str(problems[0].where) == "seeds/a.txt:1:6"
    assert "impossible date 2023-02-30" in problems[0].message


def test_empty_seed_and_seed_with_only_a_date_are_errors():
    for text in ("", "  \n\n ", "date 2023-01-01   \n"):
        seed, problems = parse(text)
        assert seed is None
        assert "no text" in problems[0].message


def test_line_of_counts_lines_of_the_file_not_of_the_text():
    seed, _ = parse("\n\n date 2023-01-01 First.\n\nSecond.")
    assert seed.line_of(seed.text.index("Second")) == 5
    assert seed.line_of(0) == 3


def test_first_sentence_titles_a_plain_seed():
    seed, _ = parse("Ships collided\nnear the port. Nobody was hurt.")
    assert seed.first_sentence() == "Ships collided near the port."


def test_slug_from_file_name():
    assert slug_from_name("103_port.txt") == "103-port"
    assert slug_from_name("A  B__C.TXT") == "a-b-c"


def test_every_ascii_character_is_refused_or_kept_as_by_the_full_check():
    """decode_text takes a quick path for ASCII text: it must refuse just what NOT_TEXT does."""
    for code in range(128):
        text = f"Plain words {chr(code)} and more.\n"
        decoded, problems = decode_text("seeds/a.txt", text.encode())
        refused = NOT_TEXT.search(text.replace("\r", "\n")) is not None
        assert (decoded is None) == refused == bool(problems), code
