"""Block Kit builders: pure functions from skill results to Slack messages that respect Slack's limits.

Limits (see shared/slack/LIMITS.md): 50 blocks per message, 100 per view, 3,000 characters per section
text, 150 per header, 40,000 per message ``text``. Long results are split across blocks and truncated
with a note, never rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.assistant.results import (
    AskResult,
    LessonCard,
    LessonsResult,
    ReviewResult,
    SearchResult,
    StatsResult,
    SummaryResult,
    TranslateGovResult,
    TranslateTechResult,
    terms_line,
)
from knowledge.models import Citation

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_TEXT_CHARS = 40_000
MAX_CONTEXT_ELEMENTS = 10

FEEDBACK_HELPFUL = "citybridge_feedback_helpful"
FEEDBACK_NOT_HELPFUL = "citybridge_feedback_not_helpful"
STATUS_ICON = {"covered": ":white_check_mark:", "partial": ":large_yellow_circle:", "missing": ":red_circle:"}


class SlackMessage(BaseModel):
    """What a listener sends: ``text`` is the notification and screen-reader fallback."""

    text: str
    blocks: list[dict[str, object]]

    def blocks_as_objects(self) -> list[Block]:
        return [block for raw in self.blocks if (block := Block.parse(raw)) is not None]


def escape(text: str) -> str:
    """Slack mrkdwn control characters in document text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, note: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(note)].rstrip() + note


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=truncate(text, MAX_HEADER_CHARS))


def section(markdown: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(markdown, MAX_SECTION_CHARS, "… _(shortened)_")))


def sections(markdown_lines: Iterable[str]) -> list[Block]:
    """Lines packed into as few sections as fit, each under the section limit."""
    blocks: list[Block] = []
    current = ""
    for raw in markdown_lines:
        line = truncate(raw, MAX_SECTION_CHARS - 20, "…")
        if current and len(current) + 1 + len(line) > MAX_SECTION_CHARS - 20:
            blocks.append(section(current))
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(section(current))
    return blocks


def context(*texts: str) -> ContextBlock:
    elements = [MarkdownTextObject(text=truncate(t, 2000)) for t in texts[:MAX_CONTEXT_ELEMENTS] if t]
    return ContextBlock(elements=elements or [MarkdownTextObject(text=" ")])


def citation_line(citation: Citation) -> str:
    label = escape(citation.label())
    link = f"<{citation.url}|{label}>" if citation.url.startswith("http") else label
    return f"[{citation.number}] {link}"


def feedback_block(request_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"feedback:{request_id}"[:255],
        elements=[
            ButtonElement(text="Helpful", action_id=FEEDBACK_HELPFUL, value=request_id[:2000]),
            ButtonElement(text="Not helpful", action_id=FEEDBACK_NOT_HELPFUL, value=request_id[:2000]),
        ],
    )


def finish(
    blocks: Sequence[Block], text: str, *, request_id: str | None = None, limit: int = MAX_BLOCKS
) -> SlackMessage:
    """Apply the block and text limits; add the feedback buttons; keep a plain-text fallback."""
    kept = list(blocks)
    room = limit - (1 if request_id else 0)
    if len(kept) > room:
        hidden = len(kept) - (room - 1)
        kept = [*kept[: room - 1], context(f"_{hidden} more blocks were left out to fit Slack's limits._")]
    if request_id:
        kept.append(feedback_block(request_id))
    return SlackMessage(text=truncate(text, MAX_TEXT_CHARS), blocks=[block.to_dict() for block in kept])


# -- results --------------------------------------------------------------------------------------------


def answer_message(result: AskResult, *, request_id: str | None = None) -> SlackMessage:
    if not result.answered:
        blocks: list[Block] = [section(f":mag: {escape(result.answer)}")]
        if result.citations:
            blocks.append(context(*(citation_line(c) for c in result.citations)))
        return finish(blocks, result.answer, request_id=request_id)
    lines = [f"{escape(s.text)} *[{s.citation}]*" for s in result.sentences] or [escape(result.answer)]
    blocks = [*sections(lines), *(context(escape(note)) for note in result.notes)]
    blocks.append(context(*(citation_line(c) for c in result.citations)))
    if result.notice:
        blocks.append(context(f":information_source: {escape(result.notice)}"))
    return finish(blocks, result.answer, request_id=request_id)


def lessons_message(result: LessonsResult, *, request_id: str | None = None) -> SlackMessage:
    if not result.found:
        return finish([section(f":mag: {escape(result.message)}")], result.message, request_id=request_id)
    blocks: list[Block] = [header(f"Lessons learned: {result.query}")]
    for card in result.lessons:
        blocks += lesson_card(card)
    return finish(blocks, f"{len(result.lessons)} lessons for “{result.query}”", request_id=request_id)


def lesson_card(card: LessonCard) -> list[Block]:
    title = f"<{card.source}|{escape(card.title)}>" if card.source.startswith("http") else escape(card.title)
    meta = " · ".join(part for part in (card.project, card.department, card.year) if part)
    return [section(f"*{title}*\n{escape(card.takeaway)}"), context(escape(meta) or " ")]


def gov_message(result: TranslateGovResult, *, request_id: str | None = None) -> SlackMessage:
    blocks: list[Block] = [header("In government terms"), section(f"*What is proposed*\n{escape(result.summary)}")]
    if result.terms or result.undefined:
        blocks.append(DividerBlock())
        blocks.append(context(terms_line(result.terms_found, len(result.terms), len(result.undefined))))
        blocks += sections(f"*{escape(t.term)}*: {escape(t.definition)}" for t in result.terms)
        blocks += sections(f"*{escape(u.term)}*: ask the vendor. {escape(u.question)}" for u in result.undefined)
    for consideration in result.considerations:
        rules = "; ".join(citation_line(c) for c in consideration.citations[:3])
        quote = f"\n> {escape(consideration.quotes[0])}" if consideration.quotes else ""
        blocks.append(section(f"*{escape(consideration.name)}*\n{escape(consideration.why)}{quote}"))
        if rules:
            blocks.append(context(f"Rules: {rules}"))
    if result.questions:
        blocks += sections(["*Questions to ask the vendor*", *(f"• {escape(q)}" for q in result.questions)])
    blocks.append(context(f"Reading grade {result.grade:.1f}", escape(result.notice)))
    return finish(blocks, f"In government terms: {result.summary}", request_id=request_id)


def tech_message(result: TranslateTechResult, *, request_id: str | None = None) -> SlackMessage:
    blocks: list[Block] = [header("Technical requirements")]
    blocks += sections(
        f"*{r.number}.* {escape(r.text)}"
        + (f"\n_Standards:_ {escape(', '.join(r.standards))}" if r.standards else "")
        + (f"\n_Threshold:_ {escape(r.threshold)}" if r.threshold else "")
        + f"\n_Accepted when:_ {escape(r.acceptance.removeprefix('Accepted when '))}"
        for r in result.requirements
    )
    if result.vague:
        blocks += sections(["*Too vague to test: ask*", *(f"• {escape(v.question)}" for v in result.vague)])
    if result.terms or result.undefined:
        blocks.append(context(terms_line(result.terms_found, len(result.terms), len(result.undefined))))
        blocks += sections(f"*{escape(t.term)}*: {escape(t.definition)}" for t in result.terms)
    blocks.append(context(f"Reading grade {result.grade:.1f}", escape(result.notice)))
    text = f"{len(result.requirements)} technical requirements"
    return finish(blocks, text, request_id=request_id)


def summary_message(result: SummaryResult, *, request_id: str | None = None) -> SlackMessage:
    blocks: list[Block] = [header("Plain-language summary"), *sections(escape(result.summary).split("\n\n"))]
    if result.key_facts:
        blocks += sections(["*Key facts*", *(f"• {escape(f)}" for f in result.key_facts)])
    blocks.append(context(f"Reading grade {result.grade_before:.1f} → {result.grade_after:.1f}", escape(result.notice)))
    return finish(blocks, result.summary or "No text to summarize.", request_id=request_id)


def review_message(result: ReviewResult, *, request_id: str | None = None) -> SlackMessage:
    blocks: list[Block] = [header("Partnership review")]
    for item in result.items:
        evidence = "\n".join(f"> {escape(e)}" for e in item.evidence[:2])
        ask = "\n".join(f"_Ask:_ {escape(q)}" for q in item.questions[:2])
        body = "\n".join(part for part in (evidence, ask) if part)
        blocks.append(section(f"{STATUS_ICON[item.status]} *{escape(item.name)}*: {item.status}\n{body}".rstrip()))
    summary = f"{result.covered} covered · {result.partial} partly · {result.missing} missing"
    blocks.append(context(summary, escape(result.notice)))
    return finish(blocks, f"Partnership review: {summary}", request_id=request_id)


def error_message(reason: str, hint: str = "") -> SlackMessage:
    text = f":warning: {escape(reason)}" + (f"\n{escape(hint)}" if hint else "")
    return finish([section(text)], reason)


class HomeStats(BaseModel):
    documents: int
    by_kind: dict[str, int]
    chunks: int


def home_view(verbs: Sequence[tuple[str, str]], stats: HomeStats, decisions: Sequence[Block] = ()) -> dict[str, object]:
    """The App Home tab: what CityBridge can do, recent decisions and what it knows."""
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in stats.by_kind.items()) or "nothing yet"
    body: list[Block] = [
        header("CityBridge"),
        section(
            "Answers for city staff and technology vendors, grounded in the city's knowledge base. "
            "Every answer cites its sources."
        ),
        DividerBlock(),
        *decisions,
        *help_message(verbs).blocks_as_objects(),
        DividerBlock(),
        section(f"*Knowledge base*: {stats.documents:,} documents ({kinds}); {stats.chunks:,} passages indexed."),
        context(
            "Message shortcuts on any message: _Explain for the city_, _Explain for engineers_, "
            "_Plain-language summary_, _Log as decision_."
        ),
    ]
    return {"type": "home", "blocks": [block.to_dict() for block in body[:MAX_VIEW_BLOCKS]]}


def help_message(verbs: Sequence[tuple[str, str]]) -> SlackMessage:
    """Help from the verb registry: ``(usage, what it does)`` pairs."""
    lines = [f"`{usage}` {what[:1].lower() + what[1:]}" for usage, what in verbs]
    lines.append("You can also mention me in a thread, send me a DM, or share a file with me and say “summarize”.")
    return finish([header("What CityBridge can do"), *sections(lines)], "CityBridge help")


def search_message(result: SearchResult) -> SlackMessage:
    """The matching documents, numbered, each with its section and a line of its text."""
    if not result.hits:
        return finish([section(f"No documents match “{escape(result.query)}”.")], "No documents match.")
    lines = [
        f"*{number}.* {citation_line(Citation.from_hit(number, hit))}\n>{escape(truncate(hit.text, 200))}"
        for number, hit in enumerate(result.hits, start=1)
    ]
    return finish([header(truncate(f"Documents for “{result.query}”", MAX_HEADER_CHARS)), *sections(lines)], lines[0])


def stats_message(result: StatsResult) -> SlackMessage:
    kinds = ", ".join(f"{count} {kind}" for kind, count in result.by_kind.items())
    text = f"{result.documents} documents ({kinds}) in {result.chunks} passages."
    return finish([section(text)], text)


def notice_message(text: str) -> SlackMessage:
    """A reviewed notice sent as is (the procurement blackout's reply)."""
    return finish([section(f":scales: {escape(text)}")], text)
