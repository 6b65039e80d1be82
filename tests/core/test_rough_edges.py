"""The rough edges found by trying the bot as a new user would (issue #12), each with the input
that broke it."""

from __future__ import annotations

from tests.support import Chat


def _buttons(reply) -> list[str]:
    return [button.label for card in reply.cards for row in card.buttons for button in row]


async def test_a_post_may_contain_pipes(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Book Club")
    reply = await chat.say("maya", "/post book-club Hello | pipes & stuff")
    assert "Posted." in reply.text
    assert "Hello | pipes & stuff" in reply.text
    await chat.say("maya", "/newgroup Trail Runners")
    many_words = await chat.say("maya", "/post Trail Runners | Hi all")
    assert "Posted." in many_words.text and "Hi all" in many_words.text


async def test_a_one_letter_group_name_says_how_long_it_must_be(chat: Chat) -> None:
    reply = await chat.say("maya", "/newgroup x")
    assert "too short: at least 2 characters" in reply.text
    assert "can't be empty" not in reply.text


async def test_join_finds_a_group_by_a_word_of_its_name(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Chess Club")
    joined = await chat.say("ann", "/join chess")
    assert "Chess Club" in joined.text and "Welcome" in (joined.toast or joined.text)


async def test_join_offers_the_candidates_when_several_match(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Chess Club")
    await chat.say("maya", "/newgroup Chess Masters")
    reply = await chat.say("ann", "/join chess")
    assert "Several groups match “chess”" in reply.text
    assert sorted(_buttons(reply)) == ["➕ Chess Club", "➕ Chess Masters"]
    nothing = await chat.say("ann", "/join quidditch")
    assert "No group called “quidditch”" in nothing.text
