"""The scripted conversations the load generator plays.

The assistant's scripts are full qualifications in EN, FR and PL, like the
end-to-end tests' (a question on the way, a corrected e-mail, a visitor who
does not decide). The stock ``rasa init`` bot gets conversations of exactly
the same lengths, made of what its own domain understands.
"""

from __future__ import annotations

from itertools import cycle, islice
from typing import Dict, List

ASSISTANT: List[Dict[str, object]] = [
    {
        "name": "en",
        "messages": [
            "Hello",
            "Our support team is drowning in repetitive tickets and our response times are far too long.",
            "By the way, how much does it cost?",
            "Yes, I'm the one who signs off.",
            "Nobody else.",
            "My business partner, a bit sceptical about the cost.",
            "Efficiency matters most to us",
            "We use Zendesk at the moment.",
            "Yes, sure",
            "Claire Martin",
            "claire.martin@martin-bakeries.com",
            "Martin Bakeries",
            "skip",
            "Yes, that's right",
        ],
    },
    {
        "name": "fr",
        "messages": [
            "Bonjour",
            "On cherche à automatiser une partie de notre service client, les délais de réponse sont trop longs.",
            "Au fait, c'est combien ?",
            "Oui, je suis la gérante.",
            "Personne d'autre.",
            "Mon associé, un peu sceptique sur le coût.",
            "Gagner en efficacité",
            "Nous utilisons Zendesk depuis deux ans.",
            "Oui, volontiers",
            "Claire Martin",
            "claire@",
            "claire.martin@boulangeries-martin.fr",
            "Boulangeries Martin",
            "06 12 34 56 78",
            "Oui, c'est exact",
        ],
    },
    {
        "name": "pl",
        "messages": [
            "Dzień dobry, szukam informacji o waszym systemie.",
            "Mamy za dużo powtarzających się pytań od klientów.",
            "Nie ja, decyduje dyrektor, pan Adam Nowicki.",
            "Kierownik IT, Piotr Nowak, też będzie miał zdanie.",
            "Nie, raczej nikt.",
            "tak",
            "Mniej pracy dla zespołu",
            "Nic, odpisujemy ze zwykłej skrzynki.",
            "Nie, dziękuję",
            "Tak, zgadza się",
        ],
    },
]

#: Messages of the stock bot's intents (greet, moods, affirm/deny, bot challenge, goodbye), in the order
#: of its stories: a sad path, a happy path and the rules.
STOCK_TURNS = [
    "hello there",
    "I'm feeling really sad today",
    "yes, that helped",
    "are you a bot?",
    "hi again",
    "very bad, honestly",
    "no, not at all",
    "good morning",
    "I am great, perfect actually",
    "am I talking to a human?",
    "hey",
    "unhappy",
    "indeed",
    "bye",
    "goodbye",
]


def stock_scripts() -> List[Dict[str, object]]:
    """Stock-bot conversations with as many messages as each of the assistant's scripts."""
    return [
        {"name": f"stock-{script['name']}", "messages": list(islice(cycle(STOCK_TURNS), len(script["messages"])))}
        for script in ASSISTANT
    ]
