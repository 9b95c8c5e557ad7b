"""建议纳入知识库 in Debian's Chromium: the clerk of the unit that answered a 咨询 opens the collapsed
section with the keyboard, sends the prefilled proposal, reads the success message and the pending
note, and on a 390 px phone nothing in the page is wider than the screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.tickets.helpers import dispatched, staff
from tests.ui.conftest import DESKTOP, PHONE, login
from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.knowledge.models import KbProposal, ProposalState

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp")
REPLY = "经核实，社保卡补办可携带身份证到任一社保经办网点办理，当场制卡。"

# Elements of the page wider than the viewport, or reaching past its right edge (a horizontal scroll).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) wide.push('page ' + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll('[data-testid="kb-proposal"], [data-testid="kb-proposal"] *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) wide.push(el.tagName + '#' + el.id + ' ' + Math.round(box.right));
  }
  return wide;
}"""


def test_the_clerk_proposes_an_article_from_the_ticket_page_with_the_keyboard(
    city: Any, units: Any, new_page: Any
) -> None:
    ticket, assignment = dispatched(units["rsj"], kind="consult", text="社保卡丢了怎么补办？需要带什么材料？")
    clerk_actor = Actor.of(staff(units["rsj"]))
    assignment = workflow.assignment_sign(assignment=assignment, actor=clerk_actor)
    workflow.assignment_reply(assignment=assignment, actor=clerk_actor, text=REPLY)

    clerk = new_page(DESKTOP)
    login(clerk, "rsj_staff")
    clerk.goto(f"/tickets/{ticket.pk}/")
    section = clerk.get_by_test_id("kb-proposal")
    question = section.get_by_label("问题", exact=True)
    expect(question).to_be_hidden()  # collapsed until asked for

    # The keyboard: focus the summary, Enter opens it; the fields are prefilled.
    summary = section.locator("summary")
    summary.focus()
    clerk.keyboard.press("Enter")
    expect(question).to_be_visible()
    expect(question).to_have_value(re.compile("社保卡丢了怎么补办"))
    expect(section.get_by_label("答复口径")).to_have_value(REPLY)
    question.fill("社保卡丢失后如何补办？")
    section.get_by_label("关键词（选填，用空格分隔）").fill("社保卡 补办")
    clerk.screenshot(path=str(SHOTS / "kbprop-form-1366.png"), full_page=True)
    question.press("Enter")  # the form sends from the keyboard too

    expect(clerk).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(clerk.get_by_role("status")).to_contain_text("已提交知识库建议，待热线中心审核")
    expect(section.locator("summary")).to_contain_text("待审核")
    proposal = KbProposal.objects.get()
    assert (proposal.ticket_id, proposal.state, proposal.question) == (
        ticket.pk,
        ProposalState.PENDING,
        "社保卡丢失后如何补办？",
    )
    section.locator("summary").click()
    expect(section.get_by_test_id("kb-proposal-status")).to_contain_text("待热线中心审核，无需重复提交")
    section.scroll_into_view_if_needed()
    clerk.screenshot(path=str(SHOTS / "kbprop-1366.png"), full_page=True)

    # A phone: the open section and the page fit 390 px.
    clerk.set_viewport_size(PHONE)
    clerk.reload()
    section.locator("summary").click()
    expect(section.get_by_label("答复口径")).to_be_visible()
    assert clerk.evaluate(OVERFLOW_JS) == []
    section.scroll_into_view_if_needed()
    clerk.screenshot(path=str(SHOTS / "kbprop-390.png"), full_page=True)
