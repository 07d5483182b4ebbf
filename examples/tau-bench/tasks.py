"""The task author: seeded user requests over the airline database, some of them bound to fail.

``plan_tasks`` reads the seeded database and writes requests (book, cancel, change flights, bags,
passengers, compensation, look-ups, out-of-scope ones). Every few tasks of a kind take a variant that
fails in a realistic way: a mistyped user id, an unknown reservation, a short gift card, a sold-out
flight the user insists on, a reservation that is already cancelled.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from airline_data import DATES, TODAY
from airline_env import AirlineEnv


@dataclass(frozen=True)
class Task:
    """One user request: what the user says first, and what the script needs to play it."""

    task_id: str
    kind: str
    instruction: str
    params: dict = field(default_factory=dict)
    trials: int = 1


def plan_tasks(env: AirlineEnv, seed: int, n_tasks: int) -> list[Task]:
    """``n_tasks`` distinct tasks over the seeded database; every third one is run four times."""
    rng = random.Random(f"tasks/{seed}")
    facts = _Facts(env)
    tasks: list[Task] = []
    for index, kind in enumerate(_kinds(rng, n_tasks)):
        nth = sum(1 for t in tasks if t.kind == kind)  # every few tasks of a kind take a failing variant
        instruction, params = WRITERS[kind][0](rng, facts, nth)
        params["followup"] = rng.random() < 0.2
        params["slip"] = rng.random() < 0.12
        trials = 4 if index % 3 == 0 else 1
        tasks.append(Task(f"task-{index:03d}", kind, instruction, params, trials))
    return tasks


def _kinds(rng: random.Random, n_tasks: int) -> list[str]:
    """Every kind once, then shuffled rounds in which each kind appears as often as its weight."""
    kinds = list(WRITERS)
    weighted = [kind for kind, (_, weight) in WRITERS.items() for _ in range(weight)]
    while len(kinds) < n_tasks:
        block = list(weighted)
        rng.shuffle(block)
        kinds += block
    return kinds[:n_tasks]


class _Facts:
    """What the task author knows about the seeded database."""

    def __init__(self, env: AirlineEnv) -> None:
        self.env = env
        self.user_ids = [u for (u,) in env.conn.execute("SELECT user_id FROM users ORDER BY seq")]
        self.reservations = {
            r: env.reservation_record(r)
            for (r,) in env.conn.execute("SELECT reservation_id FROM reservations ORDER BY seq")
        }
        self.sold_out = [
            tuple(r)
            for r in env.conn.execute(
                "SELECT flight_number, date FROM flight_dates WHERE status = 'available' AND seats_business = 0 "
                "AND date BETWEEN '2024-05-17' AND '2024-05-26' ORDER BY flight_number, date"
            )
        ]
        self.route_of = {
            n: (o, d)
            for n, o, d in env.conn.execute("SELECT flight_number, origin, destination FROM flights")
        }
        self.routes = [
            tuple(r)
            for r in env.conn.execute("SELECT DISTINCT origin, destination FROM flights ORDER BY seq")
        ]

    def user(self, user_id: str) -> dict:
        return self.env.user_record(user_id)

    def reservations_where(self, test: Callable[[dict], bool]) -> list[dict]:
        return [r for r in self.reservations.values() if test(r)]


def _future(r: dict) -> bool:
    return r.get("status") != "cancelled" and r["flights"][0]["date"] > TODAY


def write_lookup(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    user_id = rng.choice([u for u in f.user_ids if f.user(u)["reservations"]])
    r = f.reservations[rng.choice(f.user(user_id)["reservations"])]
    text = f"Hi, I'm {user_id}. Can you tell me the details of my upcoming trip to {r['destination']}?"
    return text, {"user_id": user_id, "destination": r["destination"]}


def write_typo_user(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    user_id = rng.choice([u for u in f.user_ids if f.user(u)["reservations"]])
    name, digits = user_id.rsplit("_", 1)
    typo = f"{name}_{digits[::-1]}" if digits[::-1] != digits else f"{name}_{digits}0"
    return f"Hello, my user id is {typo}. What reservations do I have?", {"user_id": user_id, "typo": typo}


def write_unknown_reservation(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    user_id = rng.choice([u for u in f.user_ids if f.user(u)["reservations"]])
    bogus = "".join(rng.choice(string.ascii_uppercase) for _ in range(6))
    return f"I need help with my booking {bogus}.", {"user_id": user_id, "bogus": bogus}


def write_book(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    low_gift = [
        u
        for u in f.user_ids
        if any(
            m["source"] == "gift_card" and m["amount"] < 100 for m in f.user(u)["payment_methods"].values()
        )
    ]
    user_id = rng.choice(low_gift if nth % 5 == 1 and low_gift else f.user_ids)
    user = f.user(user_id)
    if rng.random() < 0.6:
        origin, destination = rng.choice(f.routes)
    else:
        origin, destination = rng.sample(sorted({o for o, _ in f.routes}), 2)
    date = rng.choice(DATES[16:26])
    cabin = rng.choice(("basic_economy", "economy", "economy", "business"))
    wanted = None
    if nth % 5 == 3 and f.sold_out:
        wanted, date = rng.choice(f.sold_out)
        origin, destination = f.route_of[wanted]
        cabin = "business"
    passengers = [
        {"first_name": user["name"]["first_name"], "last_name": user["name"]["last_name"], "dob": user["dob"]}
    ]
    passengers += user["saved_passengers"][: rng.choice((0, 0, 1, 2))]
    if rng.random() < 0.15:
        passengers += [
            {"first_name": "Kai", "last_name": "Rivera", "dob": "1988-02-14"},
            {"first_name": "Lena", "last_name": "Rivera", "dob": "2015-07-30"},
        ]
    round_trip = rng.random() < 0.3
    sources = {m["source"] for m in user["payment_methods"].values()}
    payment = rng.choice(sorted(sources - {"credit_card"}) or ["credit_card"])
    if payment == "gift_card" and (rng.random() < 0.5 or nth % 5 == 1):
        payment = "gift_card_all"
    params = {
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "date": date,
        "cabin": cabin,
        "passengers": passengers,
        "bags": rng.randrange(0, 4),
        "insurance": rng.choice(("yes", "no")),
        "payment": payment,
        "careful": rng.random() < 0.8,
        "forget_bags": rng.random() < 0.3,
        "return_date": DATES[DATES.index(date) + rng.randrange(2, 5)] if round_trip else None,
        "wanted": wanted,
    }
    trip = ("round trip" if round_trip else "one way") + (f" on flight {wanted}" if wanted else "")
    text = (
        f"Hi, I'm {user_id}. I want to book a {trip} flight from {origin} to {destination} on {date} in "
        f"{cabin.replace('_', ' ')} for {len(passengers)} passenger(s), with {params['bags']} checked bags"
        f"{' and travel insurance' if params['insurance'] == 'yes' else ''}. I'd like to pay with my {payment.split('_all')[0].replace('_', ' ')}."
    )
    return text, params


def write_cancel(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    cancelled = f.reservations_where(lambda r: r.get("status") == "cancelled")
    pool = cancelled if cancelled and nth % 4 == 2 else f.reservations_where(_future)
    r = rng.choice(pool)
    reason = rng.choice(("my plans changed", "I got sick", "the meeting was moved"))
    text = f"Hi, this is {r['user_id']}. Please cancel reservation {r['reservation_id']}, {reason}."
    return text, {
        "user_id": r["user_id"],
        "reservation_id": r["reservation_id"],
        "insist": rng.random() < 0.6,
    }


def write_change_flight(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    pool = f.reservations_where(lambda r: _future(r) and r["flight_type"] == "one_way")
    if nth % 4 == 3:
        short = [
            r
            for r in pool
            if r["cabin"] != "business"
            and any(
                m["source"] == "gift_card" and m["amount"] < 60
                for m in f.user(r["user_id"])["payment_methods"].values()
            )
        ]
        pool = short or pool
    r = rng.choice(pool)
    user = f.user(r["user_id"])
    sources = sorted({m["source"] for m in user["payment_methods"].values()})
    payment = "gift_card" if nth % 4 == 3 and "gift_card" in sources else rng.choice(sources)
    if (rng.random() < 0.35 or nth % 4 == 3) and r["cabin"] != "business":
        text = f"I'm {r['user_id']}. I'd like to upgrade reservation {r['reservation_id']} to business, paying with my {payment.replace('_', ' ')}."
        return text, {
            "user_id": r["user_id"],
            "reservation_id": r["reservation_id"],
            "upgrade": "business",
            "payment": payment,
        }
    new_date = rng.choice([d for d in DATES[16:28] if d != r["flights"][0]["date"]])
    text = f"I'm {r['user_id']}. Can you move reservation {r['reservation_id']} to {new_date}? I'll pay any difference with my {payment.replace('_', ' ')}."
    return text, {
        "user_id": r["user_id"],
        "reservation_id": r["reservation_id"],
        "new_date": new_date,
        "payment": payment,
    }


def write_baggage(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    r = rng.choice(f.reservations_where(_future))
    user = f.user(r["user_id"])
    payment = rng.choice(sorted({m["source"] for m in user["payment_methods"].values()}))
    add = rng.randrange(1, 4)
    text = f"Hi, I'm {r['user_id']}. I need to add {add} checked bag(s) to reservation {r['reservation_id']}."
    return text, {
        "user_id": r["user_id"],
        "reservation_id": r["reservation_id"],
        "add": add,
        "payment": payment,
    }


def write_passengers(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    r = rng.choice(f.reservations_where(_future))
    new = {
        "first_name": rng.choice(("Ana", "Ben", "Chloe", "Dev", "Elif")),
        "last_name": rng.choice(("Ortiz", "Park", "Novak")),
        "dob": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
    }
    index = rng.randrange(0, len(r["passengers"]))
    text = f"Please change passenger {index + 1} on reservation {r['reservation_id']} to {new['first_name']} {new['last_name']}, born {new['dob']}."
    return text, {
        "reservation_id": r["reservation_id"],
        "index": index,
        "new_passenger": new,
        "drop_one": rng.random() < 0.3,
    }


def write_compensation(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    r = rng.choice(f.reservations_where(lambda r: r.get("status") != "cancelled"))
    reason = rng.choice(("delayed", "cancelled"))
    text = f"I'm {r['user_id']}. My flight on reservation {r['reservation_id']} was {reason} and I want compensation."
    return text, {"user_id": r["user_id"], "reservation_id": r["reservation_id"], "reason": reason}


def write_transfer(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    user_id = rng.choice(f.user_ids)
    issue = rng.choice(
        (
            "my bag was lost at the airport",
            "I want a refund to a different card",
            "I need a wheelchair at the gate",
        )
    )
    return f"Hi, I'm {user_id}, {issue}.", {"user_id": user_id, "summary": f"User {user_id}: {issue}."}


def write_status(rng: random.Random, f: _Facts, nth: int) -> tuple[str, dict]:
    r = rng.choice(f.reservations_where(_future))
    return f"How full are the flights on my reservation {r['reservation_id']}?", {
        "reservation_id": r["reservation_id"]
    }


WRITERS: dict[str, tuple[Callable[[random.Random, _Facts, int], tuple[str, dict]], int]] = {
    "book": (write_book, 5),
    "cancel": (write_cancel, 4),
    "change_flight": (write_change_flight, 4),
    "baggage": (write_baggage, 2),
    "passengers": (write_passengers, 1),
    "compensation": (write_compensation, 1),
    "lookup": (write_lookup, 2),
    "typo_user": (write_typo_user, 1),
    "unknown_reservation": (write_unknown_reservation, 1),
    "transfer": (write_transfer, 1),
    "status": (write_status, 1),
}
