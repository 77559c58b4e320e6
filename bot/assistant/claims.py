"""A vendor's commitments in the city's words: third person, plain, and with what each one means for
the city (allowed downtime, yearly cost, who owns what, what costs extra). Every figure is kept."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.assistant.facts import find_facts
from bot.assistant.plain import PLAIN_GRADE, grade, plain_sentences
from bot.assistant.results import Claim
from bot.assistant.sentences import split_sentences

MINUTES_PER_MONTH = 30 * 24 * 60
SHORT = 8  # a commitment can be this short: "Five (5) year term."
SUMMARY_SENTENCE_LIMITS = (25, 18, 14, 10)  # words per kept vendor sentence, tried in turn

_UPTIME = re.compile(
    r"(?P<pct>\d{2}(?:\.\d+)?)\s?%(?:\s[\w-]+){0,2}\s"
    r"(?:uptime|availability|available)"
    r"|(?:uptime|availability)(?:\s(?:target|commitment|SLA|guarantee|level))?\s(?:of|is|at|target of|will be)\s"
    r"(?:at least\s)?(?P<pct2>\d{2}(?:\.\d+)?)\s?%",
    re.I,
)
_SOLE_REMEDY = re.compile(r"\b(?:sole|exclusive|only)\s(?:and\sexclusive\s)?remed(?:y|ies)\b", re.I)
_CREDIT = re.compile(r"\bservice credits?\b|\bcredit of\b", re.I)
_UNIT_PRICE = re.compile(
    r"(?P<price>\$\d[\d,]*(?:\.\d+)?)\s(?:per|a|each)\s(?P<unit>[a-z][a-z-]*(?:\s[a-z]+)?)\s(?:per|a|each)\s"
    r"(?P<period>month|year|annum)",
    re.I,
)
_QUANTITY = re.compile(r"\b(?:for|across|covering|x|×)\s(?P<n>\d[\d,]*)\s(?P<unit>[a-z][a-z-]*)", re.I)
_ESCALATOR = re.compile(
    r"\b(?:increase|escalat|adjust|uplift|rise)\w*\b[^.]{0,80}?\b(?P<pct>\d+(?:\.\d+)?\s?%)"
    r"|(?P<pct2>\d+(?:\.\d+)?\s?%)[^.]{0,30}\b(?:annual|yearly)\s(?:increase|escalat\w*|uplift|adjustment)"
    r"|\bCPI(?:-U)?\b",
    re.I,
)
_ANNUAL = re.compile(r"\b(?:annual(?:ly)?|each year|every year|per year|yearly|each (?:contract )?anniversary)\b", re.I)
_LENGTH = r"(?:[a-z]+\s\(\d+\)|\d+)[\s-](?:years?|months?)"  # "3 years", "36-month", "Two (2) year"
_TERM = re.compile(
    rf"\b(?:initial|base|contract|subscription|service)\s(?:term|period)\b[^.]{{0,40}}?\b(?P<len>{_LENGTH})"
    rf"|\b(?P<len2>{_LENGTH})\s(?:initial\s|base\s)?(?:(?:subscription|service)\s)?(?:term|contract|subscription|"
    r"agreement)\b",
    re.I,
)
_RENEW = re.compile(r"\bauto(?:matically)?[\s-]?renew\w*|\brenew(?:s|ing)? automatically\b|\bevergreen\b", re.I)
_DATA_RIGHTS = re.compile(
    r"\b(?:retain|reserve|own|keep|grant(?:s|ed)? (?:us|to us)|perpetual|irrevocable|royalty-free|may use|right to use|"
    r"license to)\b[^.]{0,120}\b(?:data|telemetry|content|insights|information)\b",
    re.I,
)
_CITY_OWNS = re.compile(r"\b(?:City|customer|you)\s(?:owns?|retains? (?:full )?ownership)\b", re.I)
_EQUIPMENT = re.compile(
    r"\b(?:title to|ownership of|own(?:s)?)\b[^.]{0,60}"
    r"\b(?:hardware|equipment|devices?|sensors?|chargers?|cameras?|meters?)"
    r"[^.]{0,60}\b(?:remains?|stays?|retain\w*)\b",
    re.I,
)
_ADD_ON = re.compile(
    r"\badd-?ons?\b|\bsold separately\b|\boptional (?:module|add-on|feature|service)s?\b|\bat (?:an )?additional "
    r"(?:cost|charge|fee)\b|\bfor an additional (?:fee|charge)\b|\bpremium (?:tier|module|edition)\b|\bnot included\b"
    r"|\bextra (?:cost|charge|fee)\b|\bpaid upgrade\b",
    re.I,
)
_PER_GB = re.compile(r"\$\d[\d.,]*\s?(?:per|/)\s?(?:GB|gigabyte|TB|terabyte)\b", re.I)
_CLAUSES = re.compile(r"[;:,]\s+|\s(?:and|but|which|while|whereas)\s|\s\(|\)\s")
_FIGURES = ("money", "percent", "duration", "date", "period", "time")
# Counts and sizes ("2 TB", "640 acres", "48 Level 2 ports"): figures a summary must keep too.
_QUANTITY_OF = re.compile(
    r"\b\d[\d,.]*\s?(?:[A-Z][\w-]*\s|(?!(?:for|to|of|in|at|on|per|by|from|a|an|the|or)\s)[a-z][\w-]*\s(?:and\s)?){0,3}?"
    r"(?:TB|GB|MB|PB|MW|kW|kWh|MWh|GWh|Mbps|Gbps|acres?|square (?:miles?|feet)|miles?|"
    r"sq\.? ?ft|feet|ports?|vehicles?|devices?|sensors?|units?|licen[cs]es?|users?|seats?|sites?|fields?|chargers?|"
    r"cameras?|meters?|endpoints?|buses|stations?|locations?|facilities|parks?|officers?|staff|employees|records|"
    r"agents?|trucks?|collectors?|gateways?|kiosks?|terminals?|stops|routes?|lanes?|intersections?|signals?)\b"
)
_FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us|we're|we'll|we've|we'd)\b", re.I)


@dataclass(frozen=True)
class _Found:
    kind: str
    plain: str
    quote: str


def claims(text: str) -> list[Claim]:
    """Each commitment the text makes, restated for the city, with the sentence it comes from."""
    found: list[_Found] = []
    for sentence in split_sentences(text, min_length=SHORT):
        found += _claims_in(sentence)
    unique: dict[tuple[str, str], _Found] = {}
    for item in found:
        unique.setdefault((item.kind, item.plain), item)
    return [Claim(kind=f.kind, plain=f.plain, quote=f.quote) for f in unique.values()]


def _claims_in(sentence: str) -> list[_Found]:
    return [*_service_levels(sentence), *_prices(sentence), *_money_terms(sentence), *_ownership(sentence)]


def _service_levels(sentence: str) -> list[_Found]:
    """Uptime as allowed downtime, and what service credits are worth."""
    out: list[_Found] = []
    uptime = _UPTIME.search(sentence)
    if uptime:
        pct = float(uptime.group("pct") or uptime.group("pct2"))
        if 90 <= pct < 100:
            kind = (
                "a target, not a promise" if re.search(r"\btarget|aim|strive|goal\b", sentence, re.I) else "a promise"
            )
            out.append(
                _Found(
                    "uptime",
                    f"Uptime of {_pct(pct)} ({kind}) allows about {downtime(pct)} of downtime a month.",
                    sentence,
                )
            )
    if _CREDIT.search(sentence):
        values = [f.value for f in find_facts(sentence) if f.kind == "percent"]
        amount = f" of {_join(values)}" if values else ""
        if _SOLE_REMEDY.search(sentence):
            plain = (
                f"If the service falls short, the City gets service credits{amount}, and that is its only remedy: "
                "it cannot claim damages or end the contract for it."
            )
        else:
            plain = f"If the service falls short, the City gets service credits{amount} off its bill."
        out.append(_Found("credits", plain, sentence))
    return out


def _length(text: str) -> str:
    """ "36-month" → "36 months", "Two (2) year" → "two (2) years"."""
    words = text.replace("-", " ").split()
    number = int(re.sub(r"\D", "", words[-2]) or 0)
    unit = words[-1] if number == 1 or words[-1].endswith("s") else f"{words[-1]}s"
    return " ".join([*(w.lower() if w[:1].isupper() else w for w in words[:-1]), unit])


def _money_terms(sentence: str) -> list[_Found]:
    """Escalators, term and renewal, add-ons and usage fees."""
    out: list[_Found] = []
    escalator = _ESCALATOR.search(sentence)
    if escalator and (_ANNUAL.search(sentence) or "cpi" in escalator.group(0).lower()):
        pct = escalator.group("pct") or escalator.group("pct2")
        when = re.search(rf"{re.escape(pct)}\s(?:annually|a year|per year|each year|yearly)", sentence) if pct else None
        how = f"by {when.group(0) if when else pct}" if pct else "with inflation (CPI)"
        out.append(_Found("escalator", f"The price goes up {how} every year, so later years cost more.", sentence))
    term = _TERM.search(sentence)
    if term:
        length = _length(term.group("len") or term.group("len2"))
        renews = " and then renews by itself unless the City says no in time" if _RENEW.search(sentence) else ""
        out.append(_Found("term", f"The contract runs {length}{renews}.", sentence))
    elif _RENEW.search(sentence):
        out.append(_Found("term", "The contract renews by itself unless the City gives notice in time.", sentence))
    if _ADD_ON.search(sentence):
        out.append(_Found("add-on", "Some features cost extra: they are add-ons, not in the base price.", sentence))
    per_gb = _PER_GB.search(sentence)
    if per_gb:
        out.append(_Found("usage fee", f"Moving or exporting data costs {per_gb.group(0)}.", sentence))
    return out


def _ownership(sentence: str) -> list[_Found]:
    """Who owns the data and the equipment."""
    out: list[_Found] = []
    vendor_speaks = not re.match(r"\W*(?:the\s+)?(?:City|customer|county|agency)\b", sentence, re.I)
    if _DATA_RIGHTS.search(sentence) and not _CITY_OWNS.search(sentence) and vendor_speaks:
        out.append(
            _Found(
                "data rights",
                "The vendor keeps rights to use data from the City's service for its own purposes; "
                "the City should decide whether to allow that.",
                sentence,
            )
        )
    elif _CITY_OWNS.search(sentence) and re.search(r"\bdata\b", sentence, re.I):
        out.append(_Found("data rights", "The City owns its data.", sentence))
    if _EQUIPMENT.search(sentence):
        out.append(_Found("equipment", "The vendor, not the City, owns the equipment.", sentence))
    if _ADD_ON.search(sentence):
        out.append(
            _Found("add-on", "Some features cost extra: they are add-ons, not part of the base price.", sentence)
        )
    per_gb = _PER_GB.search(sentence)
    if per_gb:
        out.append(_Found("usage fee", f"Moving or exporting data costs {per_gb.group(0)}.", sentence))
    return out


def _prices(sentence: str) -> list[_Found]:
    out = []
    for match in _UNIT_PRICE.finditer(sentence):
        price = _money(match.group("price"))
        unit = match.group("unit")
        per_year = price * (12 if match.group("period").lower() == "month" else 1)
        quantity = _quantity(sentence, unit)
        if quantity:
            plain = (
                f"At {match.group(0)} for {quantity:,} {_plural(unit, quantity)}, that is about "
                f"${per_year * quantity:,.0f} a year."
            )
        elif match.group("period").lower() == "month":
            plain = f"{match.group(0)} is ${per_year:,.0f} per {unit} a year."
        else:
            continue
        out.append(_Found("price", plain, sentence))
    return out


def downtime(percent: float) -> str:
    """Allowed downtime in a 30-day month: 99.9% → "43 minutes"; 99% → "7.2 hours"."""
    minutes = (100 - percent) / 100 * MINUTES_PER_MONTH
    if minutes < 120:
        return f"{minutes:.0f} minutes"
    return f"{minutes / 60:.1f} hours"


def third_person(sentence: str, vendor: str = "the vendor") -> str:
    """A vendor's first-person sentence in the third person ("We guarantee" → "The vendor guarantees")."""

    def subject(match: re.Match[str]) -> str:
        word, rest = match.group(1), match.group(2) or ""
        verb = _agree(rest.strip()) if rest else ""
        name = vendor[:1].upper() + vendor[1:] if word[0].isupper() else vendor
        return f"{name} {verb}".rstrip() + (" " if rest.endswith(" ") else "")

    text = re.sub(r"\b[Ww]e're\b", "we are", sentence)
    text = re.sub(r"\b[Ww]e'll\b", "we will", text)
    text = re.sub(r"\b[Ww]e've\b", "we have", text)
    text = re.sub(r"\b[Ww]e'd\b", "we would", text)
    text = re.sub(
        r"\b([Ww]e)\b(\s(?:(?:also|then|now|only|still|currently|typically|always)\s)?[a-z]+\s?)?", subject, text
    )
    text = re.sub(r"\b[Oo]urs\b", lambda m: f"{_cap(m, vendor)}'s", text)
    text = re.sub(r"\b[Oo]ur\b", lambda m: f"{_cap(m, vendor)}'s", text)
    text = re.sub(r"\bus\b", vendor, text)
    return re.sub(r"\b(?:you|your)\b", lambda m: "the City" if m.group(0) == "you" else "the City's", text)


def first_person(sentence: str) -> bool:
    return _FIRST_PERSON.search(sentence) is not None


def city_summary(text: str, found: Sequence[Claim], *, vendor: str = "the vendor") -> list[str]:
    """The summary: each commitment restated, then every other sentence that carries a figure, in the
    third person and plain, so no money amount, percentage or duration is lost. The vendor's sentences
    are cut shorter until the whole reads at the plain grade (a figure a cut drops comes back with its
    clause)."""
    carrying = [
        (third_person(sentence, vendor), figures)
        for sentence in split_sentences(text, min_length=SHORT)
        if (figures := [f.value for f in find_facts(sentence) if f.kind in _FIGURES] + _QUANTITY_OF.findall(sentence))
    ]
    lines: list[str] = []
    for limit in SUMMARY_SENTENCE_LIMITS:
        lines = _summary_lines(found, carrying, limit)
        if grade(" ".join(lines)) <= PLAIN_GRADE:
            break
    return lines


def _summary_lines(found: Sequence[Claim], carrying: Sequence[tuple[str, list[str]]], max_words: int) -> list[str]:
    """The restated commitments, then each sentence with a figure they do not already give."""
    lines = [c.plain for c in found]
    for sentence, figures in carrying:
        missing = [f for f in figures if f.lower() not in " ".join(lines).lower()]
        if missing:
            lines += _keeping_figures(sentence, missing, max_words)
    return _dedupe(lines)


def _keeping_figures(sentence: str, figures: Sequence[str], max_words: int) -> list[str]:
    """The sentence in short plain pieces; a figure that shortening cut is added back with the clause
    that carries it ("Also: renew automatically for 1-year terms.")."""
    pieces = [_sentence(p) for p in plain_sentences(sentence, max_words)]
    for figure in figures:
        if figure.lower() in " ".join(pieces).lower():
            continue
        clause = next((c for c in _CLAUSES.split(sentence) if figure.lower() in c.lower()), "")
        words = clause.strip(" .;:,").split()
        if not words or len(words) > 25:
            return [_sentence(p) for p in plain_sentences(sentence, max_words=10_000)]
        pieces.append(f"Also: {' '.join(words)}.")
    return pieces


def _agree(phrase: str) -> str:
    """The verb after "we", made to agree with a singular subject ("provide" → "provides")."""
    words = phrase.split()
    if not words:
        return phrase
    verb = words[-1]
    modal = {"will", "can", "may", "shall", "must", "would", "could", "should", "might", "cannot"}
    irregular = {"are": "is", "have": "has", "do": "does", "were": "was", "go": "goes"}
    if verb in modal or verb.endswith("ed") or not verb.isalpha():
        new = verb
    elif verb in irregular:
        new = irregular[verb]
    elif re.search(r"(?:s|sh|ch|x|z|o)$", verb):
        new = verb + "es"
    elif re.search(r"[^aeiou]y$", verb):
        new = verb[:-1] + "ies"
    else:
        new = verb + "s"
    return " ".join([*words[:-1], new])


def _cap(match: re.Match[str], vendor: str) -> str:
    return vendor[:1].upper() + vendor[1:] if match.group(0)[0].isupper() else vendor


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def _money(value: str) -> float:
    return float(value.replace("$", "").replace(",", ""))


def _quantity(sentence: str, unit: str) -> int:
    """How many units the sentence prices ("for 180 vehicles", "640 vehicles; $24 per vehicle …")."""
    head = unit.split(maxsplit=1)[0].rstrip("s")[:5]
    for match in _QUANTITY.finditer(sentence):
        if match.group("unit").lower().rstrip("s").startswith(head):
            return int(match.group("n").replace(",", ""))
    bare = re.search(rf"(?<![$\d.,])(\d[\d,]*)\s{re.escape(head)}\w*", sentence, re.I)
    return int(bare.group(1).replace(",", "")) if bare else 0


def _plural(unit: str, n: int) -> str:
    return unit if n == 1 or unit.endswith("s") else unit + "s"


def _pct(value: float) -> str:
    return f"{value:g}%"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
