"""Which handler gets a text: the routing table, read top to bottom; the first row that takes the text
wins. This is the one place that decides what a text means (docs/architecture.md walks `1 123`).

1. Global words mean the same whatever was asked before (STOP, HELP, 注册, 忙 ...).
2. Answers that name their job (`1 123`, `123 1 5`, `转 123 138...`) cannot mean anything else.
3. The open question: a dialogue in progress (registration, a job request) takes every other text;
   then the question the number was last asked (questions.py) takes a bare answer (`1`, `好`, `3`).
4. Keywords and late answers: a bare answer to an offer that lapsed or closed, a rating typed in one
   go (`1 5`), a code the worker was never offered, an employer's one-line job request (`招 ...`).
5. Anything else goes to an agent, and the sender gets the help hint.

A row is a condition on the text (cheap: no database) and a handler. A handler may still decline
(return False) when the database says the text is not for it (a code that names no offer of this
worker): the router then goes on down the table. Handlers never check each other's state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch.followup import blocks as follow_up_blocks
from dispatch.followup import replies as follow_up_replies
from dispatch.followup.blocks import read_block
from dispatch.hall import policy_sms
from dispatch.inbound import commands, keywords
from dispatch.inbound.context import Inbound
from dispatch.jobs import sms_requests as job_requests
from dispatch.matching import attendance, forwarding
from dispatch.matching import replies as offer_replies
from dispatch.matching.reading import glued_digits
from dispatch.models import Message, MessageStatus, QuestionKind, TicketKind
from dispatch.outreach import replies as outreach_replies
from dispatch.settings import Settings
from dispatch.sms import registration
from dispatch.sms.parser import Command, CommandKind
from dispatch.sms.services import reply
from dispatch.tickets.services import open_ticket
from dispatch.wages import claims as wage_claims
from dispatch.wages.claims import claimed_code

log = logging.getLogger(__name__)

Handler = Callable[[Inbound], bool | None]  # None (or True): taken; False: not for me, go on


@dataclass(frozen=True)
class Route:
    name: str
    matches: Callable[[Inbound], bool]
    handle: Handler


# -- conditions ---------------------------------------------------------------------------------


def command(*kinds: CommandKind) -> Callable[[Inbound], bool]:
    return lambda inbound: inbound.command.kind in kinds


def is_text(inbound: Inbound) -> bool:
    return inbound.command.kind == CommandKind.TEXT


def offer_answer_with_code(inbound: Inbound) -> bool:
    """`1 123`, `接123`, `123 2`: a yes, no or cancel with a job's code."""
    return inbound.offer_reply is not None and inbound.offer_reply.code is not None


def offer_answer_without_code(inbound: Inbound) -> bool:
    """`1`, `好`, `没空`, `取消`: a yes, no or cancel without a code."""
    return inbound.offer_reply is not None and inbound.offer_reply.code is None


def forward(inbound: Inbound) -> bool:
    return is_text(inbound) and forwarding.read_forward(inbound.command.text) is not None


def coded_numbers(inbound: Inbound) -> bool:
    """`123 1 5`, `123 4`: follow-up answers with the job's code."""
    return inbound.numbers is not None and inbound.numbers.code is not None


def bare_numbers(inbound: Inbound) -> bool:
    """`1 5`, `3`, `15`: follow-up answers without a code."""
    return inbound.numbers is not None and inbound.numbers.code is None


def glued_to_code(inbound: Inbound) -> bool:
    """`1101`: a 1 or 2 glued to a code; the handler asks the worker's open offers whether it is one."""
    return is_text(inbound) and inbound.worker is not None and glued_digits(inbound.command.text) is not None


def worker_arrived(inbound: Inbound) -> bool:
    """`到`, `到了`, `到 101` from a worker."""
    return (
        inbound.worker is not None
        and is_text(inbound)
        and (attendance.read_arrival(inbound.command.text) is not None)
    )


def employer_no_show(inbound: Inbound) -> bool:
    """`没来 101` (`没来 101 2`) from an employer."""
    return (
        inbound.employer is not None
        and is_text(inbound)
        and (attendance.read_no_show(inbound.command.text) is not None)
    )


def employer_blocks(inbound: Inbound) -> bool:
    """`101 2 不要` (`101 不要`) from an employer: stop sending a worker they rated low."""
    return inbound.employer is not None and is_text(inbound) and read_block(inbound.command.text) is not None


def worker_claims_wages(inbound: Inbound) -> bool:
    """`欠薪 101`, `没给钱 101`, `unpaid 101` (or the word alone) from a registered worker."""
    return inbound.worker is not None and is_text(inbound) and claimed_code(inbound.command.text) is not None


def worker_asks_for_work(inbound: Inbound) -> bool:
    """`找活`, `找活 水电工` from a registered worker."""
    return (
        inbound.worker is not None
        and is_text(inbound)
        and (keywords.work_asked_for(inbound.command.text) is not None)
    )


def stranger_greets(inbound: Inbound) -> bool:
    """`你好`, `找活` from a number that is neither a worker nor an employer; or its `1 101`, a job read
    off the hall's screen: how to register comes first."""
    if inbound.worker is not None or inbound.employer is not None:
        return False
    greets = is_text(inbound) and keywords.greets_or_seeks_work(inbound.command.text)
    return greets or offer_answer_with_code(inbound)


def asks_to_hire(inbound: Inbound) -> bool:
    """`招工` alone (a request with its details, `招 水电工 2人 ...`, is a job request)."""
    return is_text(inbound) and keywords.asks_to_hire(inbound.command.text)


def asks_policy(inbound: Inbound) -> bool:
    """`政策`, `政策 2`, `policy`: the policy menu or one of its topics, from anyone."""
    return is_text(inbound) and keywords.policy_asked(inbound.command.text) is not None


def events_off(inbound: Inbound) -> bool:
    """`退订活动`, `unsubscribe events`: event texts stop, job offers go on (`退订` stops everything)."""
    return is_text(inbound) and keywords.events_off(inbound.command.text)


def events_on(inbound: Inbound) -> bool:
    return is_text(inbound) and keywords.events_on(inbound.command.text)


def signs_up(inbound: Inbound) -> bool:
    """`报名 7`: a sign-up for event 7."""
    return is_text(inbound) and keywords.sign_up_for(inbound.command.text) is not None


def cancels_sign_up(inbound: Inbound) -> bool:
    """`取消报名 7`: a sign-up for event 7 cancelled (its place goes to the first waiting)."""
    return is_text(inbound) and keywords.sign_up_cancelled_for(inbound.command.text) is not None


def menu_digit(inbound: Inbound) -> bool:
    return is_text(inbound) and keywords.menu_digit(inbound.command.text) is not None


def in_dialogue(inbound: Inbound) -> bool:
    return inbound.dialogue is not None


def asked(kind: QuestionKind, also: Callable[[Inbound], bool]) -> Callable[[Inbound], bool]:
    def matches(inbound: Inbound) -> bool:
        question = inbound.question
        return question is not None and question.kind == kind and also(inbound)

    return matches


def always(_inbound: Inbound) -> bool:
    return True


# -- handlers that adapt the feature packages to the router -------------------------------------


FeatureHandler = Callable[[Session, Settings, Message, Command], bool]


def feature(handle: FeatureHandler) -> Handler:
    """A feature package's handler, which takes the text's session, settings, message and command."""
    return lambda inbound: handle(inbound.session, inbound.settings, inbound.message, inbound.command)


def _follow_up_answer(inbound: Inbound) -> bool:
    """A bare digit answers a follow-up only when no offer asked since still waits for its answer (else
    `1` is the offer's), nor is it a digit offers take (`1`, `2`) while the offer asked since closed
    without the worker's answer (filled by others a minute before, or lapsed): the worker is answering
    the last text they got; read as the follow-up's, that `2` (no) would be "partly paid" and open a
    wage case. A digit no offer takes (`3`: not paid), or any digit once the worker answered the offer,
    is the follow-up's, except a lone `2` ("partly paid": a wage case), which must name the job while
    an offer was asked since or one of the last hours went unanswered (a late no to it looks the same).
    A repeat of an answered one: only when no offer waits nor was texted lately."""
    question = inbound.question
    offer_asked = question is not None and question.kind == QuestionKind.OFFER
    if inbound.worker is None:
        asked = follow_up_replies.Asked(open=True, repeat=True)
    else:
        offers_word = offer_answer_without_code(inbound) and inbound.asked_offer_unanswered
        asked = follow_up_replies.Asked(
            open=not (offer_asked and (inbound.offer_waiting or offers_word)),
            repeat=not offer_asked and not inbound.offer_waiting,
            name_the_job_for_a_wage_answer=_lone_2(inbound)
            and (offer_asked or inbound.offer_unanswered_lately),
        )
    return follow_up_replies.handle_follow_up_reply(
        inbound.session, inbound.settings, inbound.message, inbound.command, asked
    )


def _lone_2(inbound: Inbound) -> bool:
    numbers = inbound.numbers
    return numbers is not None and numbers.code is None and numbers.values == [2]


def dialogue_answer(inbound: Inbound) -> bool:
    session, message = inbound.session, inbound.message
    conversation = registration.active_conversation(session, inbound.settings, message.phone)  # locks it
    if conversation is None:  # idle past its time: dropped, the text is read as if none were open
        return False
    answer = DIALOGUES.get(conversation.flow)
    if answer is None:
        session.delete(conversation)  # a flow this version does not know: start afresh
        session.flush()
        return False
    answer(session, inbound.settings, message, conversation, inbound.command.text)
    return True


def to_agent(inbound: Inbound) -> None:
    """Never dropped: the message waits on the agents' queue, and the sender gets the help hint."""
    inbound.message.status = MessageStatus.UNPARSED
    open_ticket(inbound.session, TicketKind.UNPARSED_SMS, message=inbound.message)
    reply(inbound.session, inbound.settings, inbound.message, "not_understood", "not_understood")


# What answers the next message of a dialogue in progress, by the dialogue's flow.
DIALOGUES = {
    registration.FLOW: registration.answer,
    job_requests.FLOW: job_requests.answer,
}

WORKER_COMMANDS = (CommandKind.PAUSE, CommandKind.RESUME, CommandKind.PROFILE)
follow_up_asked = asked(QuestionKind.FOLLOW_UP, bare_numbers)
policy_asked = asked(QuestionKind.POLICY, menu_digit)
offer_asked = asked(
    QuestionKind.OFFER, lambda inbound: offer_answer_without_code(inbound) and inbound.offer_waiting
)

# The handlers, named for the table.
forward_offer = feature(forwarding.handle_forward)
follow_up_answer = _follow_up_answer
offer_answer = feature(offer_replies.handle_coded_reply)
bare_offer_answer = feature(offer_replies.handle_bare_reply)
glued_offer_answer = feature(offer_replies.handle_glued_reply)
listed_job_yes = feature(offer_replies.take_a_listed_job)
unknown_code = feature(offer_replies.tell_unknown_code)
job_request = feature(job_requests.handle_job_request)
wage_claim = feature(wage_claims.handle_claim_sms)
block_worker = feature(follow_up_blocks.handle_block_sms)
with_code, without_code = offer_answer_with_code, offer_answer_without_code

# fmt: off
ROUTES: tuple[Route, ...] = (
    # 1. global words
    Route("opt out (STOP, 退订)",                 command(CommandKind.OPT_OUT),  commands.opt_out),
    Route("opt in (START, 订阅)",                 command(CommandKind.OPT_IN),   commands.opt_in),
    Route("language (EN, 中文)",                  command(CommandKind.LANGUAGE), commands.set_language),
    Route("help (HELP, 帮助)",                    command(CommandKind.HELP),     commands.help_text),
    Route("register (注册 ...)",                  command(CommandKind.REGISTER), commands.register),
    Route("pause, resume, profile (忙 空 我的)",  command(*WORKER_COMMANDS),     commands.worker_command),
    Route("policy menu or topic (政策, 政策 2)",  asks_policy,                   policy_sms.ask_policy),
    Route("event texts off (退订活动)",           events_off,                    outreach_replies.events_off),
    Route("event texts on (订阅活动)",            events_on,                     outreach_replies.events_on),
    Route("a wage claim (欠薪 101, unpaid 101)",  worker_claims_wages,           wage_claim),
    # 2. answers that name their job
    Route("forward an offer (转 123 138...)",     forward,                       forward_offer),
    Route("follow-up answer with code (123 1 5)", coded_numbers,                 follow_up_answer),
    Route("stop sending a worker (101 2 不要)",   employer_blocks,               block_worker),
    Route("offer answer with code (1 123)",       with_code,                     offer_answer),
    Route("sign up for an event (报名 7)",        signs_up,                      outreach_replies.sign_up),
    Route("cancel a sign-up (取消报名 7)",        cancels_sign_up,               outreach_replies.cancel),
    # 3. the open question
    Route("dialogue step",                        in_dialogue,                   dialogue_answer),
    Route("offer answer glued to its code (1101)", glued_to_code,                glued_offer_answer),
    Route("the follow-up asked (3, 1 5)",         follow_up_asked,               follow_up_answer),
    Route("the offer asked (1, 好, 没空)",         offer_asked,                   bare_offer_answer),
    Route("the policy topic asked (2)",           policy_asked,                  policy_sms.topic_picked),
    # 4. keywords and late answers
    Route("follow-up answer (1 5)",               bare_numbers,                  follow_up_answer),
    Route("a yes to a job off the screen (1 101)", with_code,                    listed_job_yes),
    Route("code never offered (1 999)",           with_code,                     unknown_code),
    Route("late or closed offer answer (1)",      without_code,                  bare_offer_answer),
    Route("a worker arrived (到)",                worker_arrived,                commands.arrived),
    Route("a worker did not come (没来 101)",     employer_no_show,              commands.no_show),
    Route("a worker asks for jobs (找活)",        worker_asks_for_work,          commands.jobs_near),
    Route("a stranger's hello or 找活",            stranger_greets,               commands.how_to_register),
    Route("how to hire (招工)",                   asks_to_hire,                  commands.how_to_post),
    Route("job request (招 ...)",                 is_text,                       job_request),
    # 5. the agent
    Route("an agent reads it",                    always,                        to_agent),
)
# fmt: on


def route(inbound: Inbound) -> str:
    """Give the text to the first row that takes it; the row's name (kept on the message as kind)."""
    for row in ROUTES:
        if row.matches(inbound) and row.handle(inbound) is not False:
            return row.name
    raise AssertionError("the last route takes every text")  # pragma: no cover
