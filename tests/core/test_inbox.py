"""The claim of an incoming update commits with the update's first change, or not at all
(core.services.inbox.Claim riding the unit of work): a crash between the two is impossible, so
a re-delivered update is either applied once or refused whole."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from core.models import Post, ProcessedUpdate
from core.services.inbox import AlreadyApplied, Claim
from core.uow import RIDER
from tests.support import Chat


async def _count(chat: Chat, model: type) -> int:
    async with chat.services.db.uow(readonly=True) as uow:
        return (await uow.session.exec(select(func.count()).select_from(model))).one()


async def _as_update(chat: Chat, update_id: int, text: str) -> Claim:
    claim = Claim("telegram", update_id, chat.services.clock.now())
    token = RIDER.set(claim)
    try:
        await chat.say("maya", text)
    finally:
        RIDER.reset(token)
    return claim


async def test_the_claim_commits_with_the_change(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    claim = await _as_update(chat, 7, "/post hiking Trail is dry")
    assert claim.done
    assert await _count(chat, Post) == 1
    assert await _count(chat, ProcessedUpdate) == 1


async def test_a_repeat_is_refused_whole(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await _as_update(chat, 7, "/post hiking Trail is dry")
    with pytest.raises(AlreadyApplied):
        await _as_update(chat, 7, "/post hiking Trail is dry")
    assert await _count(chat, Post) == 1


async def test_a_change_refused_by_the_rules_claims_nothing(chat: Chat) -> None:
    await chat.say("maya", "/help")  # maya exists: naming her writes nothing
    claim = await _as_update(chat, 8, "/post nowhere Hello")  # no such group: nothing written
    assert not claim.done
    assert await _count(chat, ProcessedUpdate) == 0
