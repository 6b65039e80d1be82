from tests.support import Chat


async def test_a_newcomer_joins_and_signs_up(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking | Weekend hikes | hiking, outdoors")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    reply = await chat.say("bob", "/join hiking")
    assert "Welcome to Hiking" in reply.text
    reply = await chat.click("bob", "su:1")
    assert reply.toast == "You're in!"
    assert "1/1 going" in reply.text
