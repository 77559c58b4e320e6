"""Cleaning turns site-generator sources into the prose a reader sees."""

from ingest.cleaning import (
    date_from_name,
    join_broken_paragraphs,
    normalise_date,
    split_front_matter,
    strip_site_noise,
    tidy,
    title_from_name,
    unwrap_lines,
)


def test_front_matter_becomes_metadata_and_is_removed_from_the_body() -> None:
    meta, body = split_front_matter('---\ntitle: "13.003 Policy"\ntags: [a, b]\n---\n\n# 13.003 Policy\n')
    assert meta == {"title": "13.003 Policy", "tags": ["a", "b"]}
    assert body.strip() == "# 13.003 Policy"


def test_broken_front_matter_is_kept_as_text() -> None:
    text = "---\ntitle: [unclosed\n---\nBody"
    assert split_front_matter(text) == ({}, text)


def test_liquid_tags_comments_and_output_are_removed_but_prose_kept() -> None:
    text = (
        "{% comment %}internal note{% endcomment %}Read the {{ site.baseurl }}guide.\n"
        "{% capture x %}Kept words{% endcapture %} {% include 'table.html' %}"
    )
    cleaned = strip_site_noise(text)
    assert "internal note" not in cleaned
    assert "{" not in cleaned and "%" not in cleaned
    assert "Read the guide." in cleaned
    assert "Kept words" in cleaned


def test_hugo_shortcodes_are_removed_but_their_content_kept() -> None:
    cleaned = strip_site_noise('{{< note >}}Test with users.{{< /note >}} See {{< ref "/guides/x" >}}.')
    assert cleaned == "Test with users. See ."


def test_mdx_imports_and_jsx_components_are_removed() -> None:
    text = (
        "import Summary from '../components/Summary'\n\n"
        "<Summary>\nThe team went agile.\n</Summary>\n"
        '<ExternalResources items={[{"title": "x", "url": "y"}]} />\n'
        "{/* hidden */}Done."
    )
    cleaned = strip_site_noise(text)
    assert "import" not in cleaned
    assert "Summary" not in cleaned and "ExternalResources" not in cleaned and "hidden" not in cleaned
    assert "The team went agile." in cleaned and "Done." in cleaned


def test_raw_html_and_entities_become_plain_text() -> None:
    cleaned = strip_site_noise('<p class="x">It&#8217;s <a href="/y">open</a> &amp; free</p><script>evil()</script>')
    assert cleaned.strip() == "It’s open & free"


def test_far_hard_wrapped_paragraphs_are_rejoined() -> None:
    paragraphs = [
        "(a) Agencies shall use simplified procedures for all",
        "purchases at or below the micro-",
        "purchase threshold.",
        "(b) Next rule.",
    ]
    assert join_broken_paragraphs(paragraphs) == [
        "(a) Agencies shall use simplified procedures for all purchases at or below the micro-purchase threshold.",
        "(b) Next rule.",
    ]


def test_tidy_removes_stray_spaces_around_punctuation() -> None:
    assert tidy("the threshold ,  and ( 1 ) items .") == "the threshold, and (1) items."


def test_unwrap_lines_mends_hyphenation_and_keeps_paragraphs() -> None:
    assert unwrap_lines("A long sen-\ntence here.\n\nNext para-\ngraph.") == "A long sentence here.\n\nNext paragraph."


def test_dates_from_front_matter_values_and_file_names() -> None:
    import datetime as dt

    assert normalise_date(dt.date(2020, 5, 1)) == "2020-05-01"
    assert normalise_date("2019-03-04T10:00:00Z") == "2019-03-04"
    assert normalise_date(2021) == "2021"
    assert normalise_date("soon") == ""
    assert date_from_name("2015-01-08-agile-bpa.md") == "2015-01-08"
    assert date_from_name("2015-13-45-bad.md") == ""


def test_title_from_file_name() -> None:
    assert title_from_name("2015-01-08-how-to-buy_software.md") == "How to buy software"


def test_empty_front_matter_is_recognised() -> None:
    assert split_front_matter("---\n---\n\n{{ site.plays | jsonify }}") == (
        {},
        "\n{{ site.plays | jsonify }}",
    )


def test_impossible_front_matter_dates_do_not_lose_the_title() -> None:
    meta, _ = split_front_matter("---\ntitle: Sell an ACR\ndate: 2018-02-30\n---\nBody")
    assert meta == {"title": "Sell an ACR", "date": "2018-02-30"}
    assert normalise_date(meta["date"]) == "2018-02-30"
