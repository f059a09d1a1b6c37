"""The reply corpus: what workers, employers and strangers really text the market, as they type it
(typos, dialect, full-width forms, voice-input artefacts, carrier signatures), with what it must be
read as. One row a text; the reading is the parser's and the readers' the router asks
(dispatch/sms/parser.py, dispatch/matching/reading.py, dispatch/inbound/keywords.py).

Meanings: a global command (`help`, `opt_out`, `pause` ...); `yes`/`no`/`cancel`, with the code when
the text names one (`yes 101`); `glued yes 101` (a 1 or 2 glued to a code: taken only when one open
offer has that code, see test_understood.py); `hello` (a stranger is told how to register); `hire`
(how to post a job); `agent` (nothing reads it: someone does, and the sender gets the help hint).
"""

from __future__ import annotations

import pytest

from dispatch.inbound import keywords
from dispatch.matching.reading import glued_digits, read_reply
from dispatch.sms.parser import CommandKind, parse

# text | meaning
CORPUS = """
1 | yes
１ | yes
1。 | yes
一 | yes
壹 | yes
Y | yes
y | yes
yes | yes
Yes! | yes
ok | yes
OK | yes
Ok了 | yes
okay | yes
ok的 | yes
好 | yes
好的 | yes
好的。 | yes
好的呀 | yes
好嘞 | yes
好滴 | yes
好勒 | yes
好了 | yes
好的好的 | yes
好的，好的 | yes
嗯 | yes
嗯嗯 | yes
嗯好的 | yes
嗯嗯好的 | yes
恩恩 | yes
是 | yes
是的 | yes
是的是的 | yes
对 | yes
对的 | yes
可以 | yes
可以的 | yes
可以啊 | yes
可以可以 | yes
行 | yes
行的 | yes
行行行 | yes
能行 | yes
中 | yes
成 | yes
要得 | yes
得行 | yes
没问题 | yes
没问题的 | yes
去 | yes
我去 | yes
去的 | yes
俺去 | yes
能去 | yes
能来 | yes
我来 | yes
接 | yes
接单 | yes
我接 | yes
要 | yes
愿意 | yes
报名 | yes
好的谢谢 | yes
好的 老板 | yes
好的师傅 | yes
好的，谢谢！ | yes
2 | no
２ | no
二 | no
N | no
no | no
No. | no
不 | no
否 | no
不去 | no
不去了 | no
我不去了 | no
俺不去了 | no
去不了 | no
我去不了 | no
来不了 | no
不来 | no
不来了 | no
没空 | no
没空了 | no
没空呢 | no
没时间 | no
不行 | no
不行了 | no
不接 | no
不要 | no
不用了 | no
算了 | no
算了吧 | no
有事 | no
有事了 | no
不方便 | no
不干 | no
不干了 | no
干不了 | no
太远 | no
太远了 | no
钱太少 | no
下次吧 | no
改天吧 | no
pass | no
不去 谢谢 | no
不去了，谢谢老板 | no
取消 | cancel
1 101 | yes 101
1 101。 | yes 101
1，101 | yes 101
1,101 | yes 101
1-101 | yes 101
1　101 | yes 101
１　１０１ | yes 101
Y 101 | yes 101
y101 | yes 101
Y101 | yes 101
接101 | yes 101
接 101 | yes 101
接101号 | yes 101
我接101 | yes 101
好的 101 | yes 101
好的，101 | yes 101
101 好 | yes 101
101 1 | yes 101
101号 1 | yes 101
1 101号 | yes 101
要一零一 | yes 101
接一百零一 | yes 101
接一零一号 | yes 101
好的好的，接一零一号 | yes 101
好的 1 101 | yes 101
【中国移动】1 101 | yes 101
1 12345678 | yes 12345678
2 101 | no 101
2，101 | no 101
N 101 | no 101
不去 101 | no 101
101 不去 | no 101
101 2 | no 101
取消 101 | cancel 101
取消101 | cancel 101
101 取消 | cancel 101
CANCEL 101 | cancel 101
1101 | glued yes 101
2101 | glued no 101
1101。 | glued yes 101
11234 | glued yes 1234
101 | agent
能去吗 | agent
几点 | agent
几点到 | agent
在哪里 | agent
在哪里集合？ | agent
多少钱 | agent
多少钱一天啊 | agent
师傅明天几点到 | agent
收到 | agent
收到谢谢老板 | agent
谢谢 | agent
谢谢老板 | agent
嗯 谢谢 | agent
好 不去 | agent
1 2 | agent
11 | agent
22 | agent
明天可以 | agent
今天没空 | agent
包吃住吗 | agent
还有活吗 | agent
能带人吗 | agent
我朋友也想去 | agent
哪个工地 | agent
工钱怎么算 | agent
我在路上 | agent
好吗 | agent
啥活 | agent
接101 接102 | agent
1 1 0 1 | agent
ok thanks see u | agent
帮助 | help
help | help
HELP | help
? | help
？ | help
菜单 | help
退订 | opt_out
TD | opt_out
T | opt_out
STOP | opt_out
cancel | opt_out
订阅 | opt_in
忙 | pause
空 | resume
有空 | resume
我的 | profile
注册 | register
注册 水电工 | register
注册水电工 | register
EN | language
中文 | language
你好 | hello
您好 | hello
你好啊 | hello
在吗 | hello
有人吗 | hello
hello | hello
Hi | hello
找活 | hello
找 活 | hello
找工作 | hello
我要找工作 | hello
有活吗 | hello
求职 | hello
招工 | hire
招人 | hire
我要招工 | hire
找工人 | hire
招聘 | hire
"""
ROWS = [tuple(part.strip() for part in line.rsplit("|", 1)) for line in CORPUS.strip().splitlines()]


def meaning(text: str) -> str:
    """What the router can read in `text`, before it asks the database anything."""
    command = parse(text)
    if command.kind != CommandKind.TEXT:
        return command.kind.value
    reply = read_reply(command.text)
    if reply is not None:
        return f"{reply.answer} {reply.code}" if reply.code else reply.answer.value
    glued = glued_digits(command.text)
    if glued is not None:
        return f"glued {glued.answer} {glued.code}"
    if keywords.asks_to_hire(command.text):
        return "hire"
    if keywords.greets_or_seeks_work(command.text):
        return "hello"
    return "agent"


def test_the_corpus_is_large_and_has_no_text_twice() -> None:
    texts = [text for text, _ in ROWS]
    assert len(texts) >= 150
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(("text", "expected"), ROWS, ids=[f"{n:03d}" for n in range(len(ROWS))])
def test_each_reply_is_read_as_meant(text: str, expected: str) -> None:
    assert meaning(text) == expected
