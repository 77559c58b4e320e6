"""What a question asks for: its type, the thing asked about, and the names it must be answered about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.assistant.facts import PATTERNS
from knowledge.lexical import query_terms

QuestionType = Literal["amount", "duration", "who", "when", "definition", "other"]
QUESTION_TYPES: tuple[QuestionType, ...] = ("amount", "duration", "who", "when", "definition", "other")
FocusKind = Literal["name", "acronym", "version", "year", "section"]

_DURATION = re.compile(
    r"\bhow long\b|\bhow many (?:calendar |business |working )?(?:days|weeks|months|years|hours|minutes)\b"
    r"|\bhow soon\b|\bhow quickly\b|\bhow far in advance\b|\bwithin how\b|\bhow much time\b"
    r"|\b(?:retention|response|notice|review|waiting) (?:period|time)\b|\bhow often\b"
    r"|\bhow old\b|\bhow fast\b|\bhow far back\b|\b(?:the )?(?:longest|shortest)\b"
    r"|\bextensions? (?:is |are )?allowed\b",
    re.I,
)
_WHO = re.compile(
    r"(?:^|[,;:]\s*)who(?:m|se)?\b|\bwho(?:m)? (?:do|does|did|is|are|was|must|may|can|should|has|have|will|would)\b"
    r"|\bwhich (?:official|office|person|role|agency|department|officer|team|group|body|committee|company|vendor"
    r"|firm)\b",
    re.I,
)
_WHEN = re.compile(
    r"(?:^|[,;:]\s*)when (?:do|does|did|is|are|must|may|can|should|has|have|will)\b|^\s*when\b"
    r"|\bwhat (?:date|day|year|time)\b|\bby when\b|\bwhat deadline\b|\bstarting when\b"
    r"|\b(?:cutoff|cut-off|effective|due|start|end|compliance) date\b",
    re.I,
)
_AMOUNT = re.compile(
    r"\bhow much\b|\bhow many\b|\bwhat(?:'s| is) the (?:most|least|fewest)\b|\bheadcount\b|\bnumber of\b"
    r"|\b(?:above|below|over|under|at) what (?:\w+ )?(?:value|amount|price|size)\b"
    r"|\bhow (?:large|big|high|low|small|expensive|accurate|precise)\b|\bwhat (?:dollar )?value\b"
    r"|\bthresholds?\b|\blimits?\b|\b(?:service )?credits?\b|\bcap\b|\bceiling\b|\bcosts?\b|\bprices?\b|\bfees?\b"
    r"|\bdollars?\b|\bamount\b|\bmaximum\b|\bminimum\b|\bbudget\b|\bpercent(?:age)?\b|\brate\b|\bcharge\b",
    re.I,
)
_DEFINITION = re.compile(
    r"^\s*(?:so\s+)?(?:what(?:\s+exactly)?(?:'s|\s+is|\s+are)\s+(?:exactly\s+)?(?:an?\s+|the\s+)?(?P<x>.+?)"
    r"|what does\s+(?P<y>.+?)\s+(?:mean|stand for)|define\s+(?P<z>.+?)|what is meant by\s+(?P<w>.+?)"
    r"|what (?:counts|qualifies) as\s+(?:an?\s+|the\s+)?(?P<u>.+?)"
    r"|how (?:does|do|would)\s+.+?\s+define\s+(?:an?\s+|the\s+)?(?P<t>.+?)"
    r"|(?:the\s+)?meaning of\s+(?P<v>.+?))\s*[?.!]*\s*$",
    re.I,
)
# "In federal contracting, what is …" / "Under FAR Part 46, what does …": the lead-in only sets the scene.
_ASKS_MEANING = re.compile(
    r"\bwhat does\b.+\b(?:mean|stand for)\b|\bdoes\s+(?:it|that|this|the\s+\w+)\s+mean\b"
    r"|^\s*define\b|\bdefine\s+(?:an?\s+|the\s+)?[\w\-]+|\bmeaning of\b"
    r"|\bwhat is meant by\b|\bwhat (?:counts|qualifies) as\b",
    re.I,
)
_WHATS_THAT = re.compile(r"\bwhat(?:'s| is| does)\s+(?:that|this|it)(?:\s+mean)?\s*\??\s*$", re.I)
_KIND_OF = re.compile(r"^\s*what(?:'s|\s+is|\s+are)\s+an?\s+", re.I)  # "a X", not "the X": a kind of thing
# "What's the headcount of …", "the number of datasets", "how many visits": the thing a figure must be of.
_ASKED = (
    re.compile(
        r"\b(?:number of|how many)\s+((?:[\w\-]+\s+){0,3}?[\w\-]+)(?=\s+(?:can|could|does|do|did|is|are|was|were|must|"
        r"should|will|would|may|might|has|have|had|of|in|on|for|at|before|after|per|that|which|under)\b|\s*[?,.]|$)",
        re.I,
    ),
    re.compile(
        r"\bwhat\s+((?:[\w\-]+\s+){1,3}?)(?:percentage|percent|rate|amount|fee|price|cost|limit|threshold|number)\s+"
        r"(?:does|do|did|is|are|must|should|will|can)\b",
        re.I,
    ),
    re.compile(
        r"\bwhat(?:'s|\s+is|\s+was|\s+are|\s+were)\s+the\s+((?:[\w\-'’]+\s+){0,5}?[\w\-]+)\s+"
        r"(?:of|in|on|for|at|that|from|to|under)\b",
        re.I,
    ),
)
# Words that name the kind of figure, not what it is of (the asked type already checks for a figure).
_MEASURES = {
    "most", "least", "fewest", "current", "total", "maximum", "minimum", "max", "min", "longest", "shortest",
    "default", "typical", "usual", "standard", "official", "first", "last", "latest", "best", "main", "exact",
    "number", "amount", "value", "rate", "limit", "ceiling", "cap", "threshold", "price", "cost", "fee", "date",
    "deadline", "days", "weeks", "months", "years", "hours", "minutes", "business", "calendar", "time", "period",
    "name", "role", "person", "office", "dollar", "size", "percentage", "percent", "top", "highest", "lowest",
    "biggest", "largest", "smallest",
}  # fmt: skip
_SCENE = re.compile(
    r"^\s*(?:in|under|for|per|according to|within|when|if|once|after|before|while)\b[^,?]{2,80},\s*", re.I
)
_COMPOUND = re.compile(
    r"\b(?:vs\.?|versus|compared (?:to|with)|as well as)\b"
    r"|\b(?:and|or)\s+(?:what|how|who|when|where|which|does|do|is|are|can)\b",
    re.I,
)
_QUOTED = re.compile(r"(?:^|(?<=[\s(]))[\"“'‘]([^\"”'’]{2,60})[\"”'’](?=[\s,.?!;:)]|$)")

# Words that start a question or are capitalised without naming anything.
_NOT_NAMES = {
    "what", "how", "who", "whom", "whose", "when", "where", "why", "which", "does", "do", "did", "is", "are",
    "can", "could", "should", "would", "will", "may", "must", "shall", "has", "have", "i", "we", "our", "my",
    "the", "a", "an", "if", "in", "on", "for", "under", "per", "and", "or", "to", "of", "tell", "give", "list",
    "explain", "describe", "please", "hi", "hey", "any", "there", "it", "this", "that", "these", "those",
    "federal", "city", "state", "government", "agency", "section", "part", "subpart", "chapter", "council",
    "department", "office", "contracting", "officer", "act", "rule", "rules", "program", "us", "u.s", "yes", "no",
    "so", "also", "vs", "versus", "compared", "between", "after", "before", "once", "while", "during", "since",
    "using", "starting", "within", "given", "assuming", "suppose", "because", "although", "unless", "until",
    "upon", "besides", "say", "let", "now", "then", "here", "imagine", "with", "without", "at", "by", "from",
    "about", "as", "be", "not", "all", "each", "every", "some",
}  # fmt: skip
_NAME = re.compile(r"(?<![\w.])([A-Z][\w&'’.\-]*(?:\s+(?:of|de|la|del|and|&)?\s*[A-Z][\w&'’.\-]*)*)")
_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9&]{1,9}s?)\b")
_VERSION = re.compile(
    r"\b([A-Za-z][\w\-]*\s+(?:v(?:ersion)?\s?)?\d+(?:\.\d+)+[a-z]?(?![\d.]*\s?%)|v\d+(?:\.\d+)*"
    r"|[A-Z][\w\-]*[A-Z][\w\-]*\s+(?:\d{3,}|\d+[a-z]{1,2})(?![\w.\-]))\b"
)  # "WCAG 3.0", "v2", "ISO 27701", "FedRAMP 20x"; never "hit 99.3%"
_SECTION = re.compile(r"\b(\d{1,2}\.\d{3,4}(?:-\d+)?(?:\([a-z0-9]+\))*)\b")
_YEAR = re.compile(r"(?:\b|(?<=FY))((?:19|20)\d{2})\b")  # "2031", "FY2027"
_DOCUMENT_NUMBER = re.compile(r"(?<![\w.])(\d{2,4}(?:-\d{1,4}){1,3}[a-z]?)\b")  # SP 800-63-5, 2 CFR 200-321
# "in the TechFAR Hub glossary", "according to 18F's accessibility guide": where the asker wants it from.
_SOURCE_HINT = re.compile(
    r"\b(?i:in|under|per|according to|from|by)\s+(?i:the\s+)?"
    r"([A-Z0-9][\w'’.\- ]{1,60}?)(?=[,?.!]|\s+(?:say|says|said|require|define)|$)"
    r"|\b([A-Z0-9][\w.\-]*(?:\s+[A-Z][\w.\-]*)*)['’]s\s+(?:[a-z\- ]{0,30}\b)?"
    r"(?:guide|handbook|glossary|lexicon|standard|code|playbook|policy|rules)\b",
)
# Conversational words that say nothing about the subject ("can I just …", "we're probably going to …").
_FILLER = {
    "just", "really", "actually", "probably", "going", "want", "wants", "need", "needs", "like", "thing",
    "things", "ok", "okay", "get", "gets", "got", "think", "know", "maybe", "already", "ever", "still",
    "anyone", "someone", "something", "anything", "last", "night", "now", "say", "says", "tell", "use",
}  # fmt: skip
_TYPE_WORDS = {
    "much", "many", "long", "threshold", "limit", "cost", "price", "fee", "amount", "maximum", "minimum",
    "mean", "means", "meaning", "define", "definition", "current", "currently", "exactly", "today",
}  # fmt: skip


@dataclass(frozen=True)
class Focus:
    """A name, version, year or section the answer must be about."""

    text: str
    kind: FocusKind


@dataclass(frozen=True)
class QuestionFrame:
    question: str
    type: QuestionType
    subject: str = ""
    subject_terms: list[str] = field(default_factory=list)
    focus: list[Focus] = field(default_factory=list)
    source_hint: list[str] = field(default_factory=list)  # words naming the source asked about
    action: str = ""  # what the person asked about does: "approve" in "who has to approve the D&F"
    compound: bool = False
    counting: bool = False  # "how many …": a bare number answers
    alternatives: bool = False  # the names are alternatives ("Sourcewell or NASPO ValuePoint"): one will do
    asks_what: bool = False  # "What format …", "Which standard …": the answer names a thing
    asked: str = ""  # what a figure or role must be of: "headcount" in "What's the headcount of …"


def analyze(question: str) -> QuestionFrame:
    """The question's type, subject and focus, by rule (no model)."""
    text = " ".join(question.split())
    kind = question_type(text)
    subject = definition_subject(text) if kind in ("definition", "amount") else ""
    focus = find_focus(text)
    if subject:
        terms = query_terms(subject)
    else:  # the names are checked on their own (find_focus); the subject is what is asked about them
        named = {w for f in focus for w in query_terms(f.text)}
        terms = [t for t in query_terms(text) if t not in _TYPE_WORDS | _FILLER and t not in named]
    return QuestionFrame(
        question=text,
        type=kind,
        subject=subject,
        subject_terms=terms,
        focus=focus,
        source_hint=source_hint(text),
        action=action(text) if kind == "who" else "",
        compound=bool(_COMPOUND.search(text)) or text.count("?") > 1,
        counting=bool(re.search(r"\bhow many\b|\bnumber of\b", text, re.I)),
        asks_what=bool(re.search(r"\b(?:what|which)\b", text, re.I)),
        asked=asked_thing(text) if kind in ("amount", "who") else "",
        alternatives=bool(re.search(r"\b(?:or|either|versus|vs\.?)\b", text, re.I)),
    )


def asked_thing(text: str) -> str:
    """The words of the thing a figure or role is asked of ("alert confirmation" in "What was the alert
    confirmation rate in …"), without the words that only name the kind of figure; "" when none."""
    named = {w for name in names(text) for w in query_terms(name)}
    for match in (m for pattern in _ASKED for m in pattern.finditer(text)):
        words = [w for w in query_terms(match.group(1)) if w not in _MEASURES | _TYPE_WORDS and w not in named]
        if words:
            return " ".join(words)
    return ""


def question_type(text: str) -> QuestionType:
    text = _SCENE.sub("", text)
    if _ASKS_MEANING.search(text) or (_WHATS_THAT.search(text) and _ACRONYM.search(text)):
        return "definition"
    if _DURATION.search(text):
        return "duration"
    if _WHO.search(text):
        return "who"
    if _WHEN.search(text):
        return "when"
    subject = definition_subject(text) if _DEFINITION.match(text) else ""
    if subject and _KIND_OF.match(text) and len(subject.split()) <= 6:
        return "definition"  # "What is a competitive procurement threshold?" asks what such a thing is
    if _AMOUNT.search(text):
        return "amount"
    if subject and len(subject.split()) <= 6:
        return "definition"
    return "other"


def definition_subject(text: str) -> str:
    """The term a "what is X" question asks about ("simplified acquisition threshold")."""
    quoted = _QUOTED.search(text)
    if quoted:
        return quoted.group(1).strip()
    if _WHATS_THAT.search(text) and (acronyms := _ACRONYM.findall(text)):
        return str(acronyms[-1])  # "MDS docs keep saying PROW - what's that?"
    match = _DEFINITION.match(_SCENE.sub("", text))
    if not match:
        return ""
    subject = next((g for g in match.groups() if g), "")
    subject = re.sub(r"^(?:an?|the)\s+", "", subject.strip(), flags=re.I)
    subject = re.sub(r"\s+(?:under|in|according to|per|for|within|from|on)\s+.*$", "", subject)
    subject = subject.strip(" ?.!'\"")
    if re.search(r"\b(?:i|we|you|they|my|our|your|can|could|should|must|do|does|did|will|would)\b", subject, re.I):
        return ""  # "the most I can put on my p-card" is a clause, not the name of a thing
    return subject


def _trim_name(words: list[str]) -> str:
    """A name without the question words and connectors around it ("What", "of", "the"), and without
    the acronyms in it, which are focus of their own ("Open311 GET" → "Open311")."""
    if any(_ACRONYM.fullmatch(w) for w in words):
        parts = " ".join("|" if _ACRONYM.fullmatch(w) else w for w in words).split("|")
        words = max((p.split() for p in parts), key=len)
    while words and words[0].lower().strip(".'’") in _NOT_NAMES:
        words = words[1:]
    while words and words[-1].lower().strip(".'’") in _NOT_NAMES:
        words = words[:-1]
    return " ".join(words)


_ACTION = re.compile(
    r"\bwho(?:m|se)?\s+(?:(?:has|have|needs?|gets?|is|are)\s+to\s+|(?:do|does|did|should|must|can|may|will|would)"
    r"(?:\s+(?:they|we|i|you|it))?\s+|is\s+(?:the\s+)?(?:one\s+)?(?:that\s+|who\s+)?)?(?P<verb>[a-z]{3,})",
    re.I,
)


def action(text: str) -> str:
    """The verb a "who" question turns on ("who has to approve …" → "approve"), or ""."""
    match = _ACTION.search(text)
    verb = match.group("verb").lower() if match else ""
    return "" if verb in _NOT_NAMES or verb in {"job", "responsible", "in", "the"} else verb


def source_hint(text: str) -> list[str]:
    """Content words of the source a question names ("the TechFAR Hub glossary" → techfar, hub, glossary)."""
    words: list[str] = []
    for match in _SOURCE_HINT.finditer(text):
        phrase = match.group(1) or match.group(2) or ""
        words += [w for w in query_terms(phrase) if w not in words and w not in {"far"}]
    return words


def names(text: str) -> list[str]:
    """Capitalised names in a question: places, vendors, products, programs."""
    found: list[str] = []
    for match in _NAME.finditer(text):
        if match.start() == 0 and " " not in match.group(1).strip():
            continue  # a capitalised first word is the start of the sentence, not a name
        if re.search(r"\w['’](?:m|re|ve|d|ll)\b|n['’]t\b", match.group(1)):
            continue  # "I'm", "We're": not names
        # "Port Alder's Privacy Advisory Commission" names two things: Port Alder, and its commission.
        for part in re.split(r"(?<=\w)['’]s\s+", match.group(1)):
            name = _trim_name(part.split())
            if name and not _ACRONYM.fullmatch(name) and not PATTERNS["money"].fullmatch(name):
                found.append(name)
    return found


def find_focus(text: str) -> list[Focus]:
    """Names (cities, vendors, products), acronyms, versions, years and section numbers in the question."""
    found: dict[str, Focus] = {}

    def add(value: str, kind: FocusKind) -> None:
        value = re.sub(r"['’]s$", "", value.strip(" .,;:?!"))
        if value and value.lower() not in found and value.lower() not in _NOT_NAMES:
            found[value.lower()] = Focus(value, kind)

    for match in _SECTION.finditer(text):
        add(match.group(1), "section")
    for match in _VERSION.finditer(text):
        if not _SECTION.fullmatch(match.group(1).split()[-1]):
            add(match.group(1), "version")
    for match in _DOCUMENT_NUMBER.finditer(text):
        if not _YEAR.fullmatch(match.group(1)):
            add(match.group(1), "version")
    for match in _YEAR.finditer(text):
        add(match.group(1), "year")
    for name in names(text):
        add(name, "name")
    for match in _ACRONYM.finditer(text):
        token = match.group(1)
        if any(ch.isalpha() for ch in token) and token.lower() not in _NOT_NAMES:
            add(token[:-1] if token.endswith("s") and token[:-1].isupper() else token, "acronym")
    return list(found.values())
