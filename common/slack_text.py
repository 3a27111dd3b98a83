"""Text in and out of Slack, the same way in every process.

Out: whatever a visitor typed is made inert before it reaches Slack (``&``,
``<``, ``>`` escaped, links and mentions broken by an invisible joiner). In:
Slack's message markup read back as the plain text a person typed.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Set

WORD_JOINER = "\u2060"
_LINKISH = re.compile(r"(://|\.(?=[^\W_])|@(?=(channel|here|everyone)\b))", re.IGNORECASE)
_EMAIL = re.compile(r"([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SPACES = re.compile(r"[ \t]+")


def inert(value: Any) -> str:
    """Visitor text that no chat client turns into a web link or a mention (an invisible joiner breaks them).

    E-mail addresses are left whole, so that a rep can copy them.
    """
    parts = _EMAIL.split(str(value))
    return "".join(
        part if index % 2 else _LINKISH.sub(lambda m: m.group(0)[0] + WORD_JOINER + m.group(0)[1:], part)
        for index, part in enumerate(parts)
    )


def slack_escape(value: Any) -> str:
    """Visitor text for Slack mrkdwn: ``&``, ``<``, ``>`` escaped, links and mentions inert."""
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return inert(escaped)


def plain_text(text: str, bot_ids: Iterable[str] = ()) -> str:
    """Slack's message markup as plain text: ``<mailto:a@b.co|a@b.co>`` → ``a@b.co``,
    ``<https://x.io|x.io>`` → ``x.io``, ``<@U1|ann>`` → ``@ann``, mentions of the bot
    removed, ``&lt;``/``&gt;``/``&amp;`` unescaped."""
    bots: Set[str] = set(bot_ids)

    def replace(match: "re.Match[str]") -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user = target[1:]
            return "" if user in bots else "@" + (label or user)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return label or target

    text = _MARKUP.sub(replace, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()
