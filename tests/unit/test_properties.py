"""Property tests (hypothesis) for the pure parts: Arabic folding, money, backoff, the dedupe key, JSON bodies."""

import json
import math
import string
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from common.money import percent_of, to_iqd
from common.products.text import fold, index_key, typo_variants, words
from common.sync.entities import BY_ROUTE
from common.sync.intake import idempotency_key
from common.errors import InvalidJson
from common.retry import Backoff
from common.validation import MAX_JSON_DEPTH, decode_json, json_value_problem

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
TASHKEEL = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"
arabic_words = st.text(alphabet=ARABIC_LETTERS, min_size=1, max_size=12)
latin_words = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
any_words = st.lists(st.one_of(arabic_words, latin_words), min_size=1, max_size=6)


@given(st.text(max_size=200))
def test_fold_is_idempotent_and_makes_plain_words(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
    assert all(ch == " " or ch.isdigit() or "a" <= ch <= "z" or "\u0621" <= ch <= "\u064a" for ch in folded)


@given(st.text(max_size=200))
def test_index_key_is_ascii_whatever_the_text(text):
    key = index_key(fold(text))
    assert key.isascii()
    assert all(ch.isalnum() or ch == " " for ch in key)


def _spell_differently(word: str, draw) -> str:
    """The same word as a person might type it: hamza forms, taa marbuta, alef maqsura, tashkeel."""
    out = []
    for index, ch in enumerate(word):
        if ch == "ا":
            ch = draw(st.sampled_from("اأإآ"))
        elif ch == "ه" and index == len(word) - 1:
            ch = draw(st.sampled_from("هة"))
        elif ch == "ي" and index == len(word) - 1:
            ch = draw(st.sampled_from("يى"))
        out.append(ch + draw(st.sampled_from(["", *TASHKEEL])))
    return "".join(out)


@given(st.data(), st.lists(arabic_words, min_size=1, max_size=5))
def test_arabic_spelling_variants_fold_to_the_same_text(data, phrase):
    plain = " ".join(phrase)
    variant = " ".join(_spell_differently(word, data.draw) for word in phrase)
    assert fold(variant) == fold(plain)


@given(any_words)
def test_case_and_spacing_do_not_matter(phrase):
    assert fold("  ".join(word.upper() for word in phrase)) == fold(" ".join(phrase).lower())


@given(st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=12), st.data())
def test_a_one_letter_typo_shares_a_variant_with_the_word(word, data):
    position = data.draw(st.integers(0, len(word) - 1))
    kind = data.draw(st.sampled_from(["delete", "insert", "replace"]))
    letter = data.draw(st.sampled_from(string.ascii_lowercase))
    typo = {
        "delete": word[:position] + word[position + 1 :],
        "insert": word[:position] + letter + word[position:],
        "replace": word[:position] + letter + word[position + 1 :],
    }[kind]
    if len(typo) >= 4:
        assert typo_variants(word) & typo_variants(typo)


@given(any_words)
def test_words_round_trip_through_the_folded_text(phrase):
    assert " ".join(words(fold(" ".join(phrase)))) == fold(" ".join(phrase))


@given(st.integers(0, 10**12), st.integers(0, 100))
def test_percent_of_is_the_half_up_rounding_of_the_exact_value(amount, percent):
    exact = Decimal(amount) * percent / 100
    result = percent_of(amount, percent)
    assert Decimal(result) - Decimal("0.5") <= exact < Decimal(result) + Decimal("0.5")
    assert 0 <= result <= amount


@given(st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False, places=3))
def test_to_iqd_rounds_half_up_to_whole_dinars(amount):
    result = to_iqd(amount)
    assert isinstance(result, int)
    assert Decimal(result) - Decimal("0.5") <= amount < Decimal(result) + Decimal("0.5")


@given(st.integers(1, 60), st.floats(0, 1))
def test_backoff_grows_exponentially_within_its_jitter_band_and_cap(attempt, fraction):
    backoff = Backoff(base_seconds=10, cap_seconds=3600)
    step = min(3600, 10 * 2 ** (attempt - 1))
    delay = backoff.delay(attempt, fraction)
    assert step / 2 <= delay <= step
    assert backoff.delay(attempt + 1, 0) >= backoff.delay(attempt, 0)


_values = st.one_of(st.integers(-(10**9), 10**9), st.text(max_size=20), st.booleans(), st.none())


@given(
    st.dictionaries(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8), _values, max_size=6),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_the_dedupe_key_ignores_delivery_fields_and_key_order(data, event_id, other_event_id):
    entity = BY_ROUTE["customers"]
    body = {"event_type": "update", "entity_id": "1", "data": data, "event_id": event_id}
    redelivered = {"event_id": other_event_id, "event_time": "2026-01-01T00:00:00Z",
                   "data": dict(reversed(list(data.items()))), "entity_id": "1", "event_type": "update"}  # fmt: skip
    assert idempotency_key(entity, body) == idempotency_key(entity, redelivered)


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_the_dedupe_key_changes_with_the_record(rate, other_rate):
    entity = BY_ROUTE["products"]
    key = idempotency_key(entity, {"item": {"item_id": "1", "rate": rate}})
    assert key == idempotency_key(entity, {"item": {"item_id": "1", "rate": float(rate)}})
    assert (key == idempotency_key(entity, {"item": {"item_id": "1", "rate": other_rate}})) == (rate == other_rate)
    assert key != idempotency_key(BY_ROUTE["invoices"], {"item": {"item_id": "1", "rate": rate}})


# JSON values as bodies carry them: any text (NUL and lone surrogates included), any float
# (infinity included: json.dumps writes it as 1e400 here), and nesting around the depth limit.
_json_leaves = (
    st.none() | st.booleans() | st.integers() | st.sampled_from(["\ud800", "a\udfff", "\x00", "\ud83d\ude00"])
    | st.text(st.characters(exclude_categories=()), max_size=8).filter(lambda text: "Infinity" not in text)
    | st.floats(allow_nan=False).map(lambda number: number if math.isfinite(number) else 1e400)
)  # fmt: skip
_json_values = st.recursive(
    _json_leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


def _nested(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


def _has_infinite(value) -> bool:
    if isinstance(value, float):
        return math.isinf(value)
    if isinstance(value, list):
        return any(_has_infinite(item) for item in value)
    if isinstance(value, dict):
        return any(_has_infinite(item) for item in value.values())
    return False


def _body(value) -> str:
    return json.dumps(value).replace("Infinity", "1e400")  # what a sender's overflowing number looks like


@given(_json_values, st.integers(0, MAX_JSON_DEPTH + 2))
def test_decode_json_refuses_exactly_what_the_walk_refuses(value, depth):
    body = _body(_nested(value, depth))
    as_read = json.loads(body)  # what the text says (two lone surrogates written side by side are one pair)
    problem = json_value_problem(as_read)
    try:
        decoded = decode_json(body)
    except InvalidJson as exc:
        # A body with two problems may be refused for either: the decoder meets an overflowing
        # number while parsing, before any depth is known.
        assert problem is not None
        assert problem in exc.message or ("numbers must be finite" in exc.message and _has_infinite(as_read))
    else:
        assert problem is None
        assert decoded == as_read
