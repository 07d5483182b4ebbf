"""The scripted, seeded airline agent: it plays the tasks that ``tasks.plan_tasks`` writes, traced.

``run_task`` talks in OpenAI chat messages, decides from what the tools answer (which flight, how to
split a payment, what to do after an error), and every model turn and tool call becomes a span
through ``genai_tracing``. Each task is run for its trials (like tau-bench's), each from a fresh copy
of the database; trials differ in small choices (an extra look-up, a ``think``), not in ids.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable

from airline_env import AirlineEnv, ToolError
from genai_tracing import AgentRun, ChatModel, Recorder
from tasks import Task, plan_tasks
from tools_schema import TOOL_DEFINITIONS

MODEL = ChatModel(name="scripted-airline-v1", provider="wmh.scripted", tool_definitions=TOOL_DEFINITIONS)
SYSTEM_PROMPT = (
    "You are a customer service agent for a fictional airline. Today is 2024-05-15 15:00 EST. Help users "
    "look up, book, change or cancel reservations with the tools, one tool call at a time. Get the user id "
    "first. Before any change to the database, list the details and get an explicit yes. Basic economy "
    "flights cannot be changed. Cancellation is allowed within 24 hours of booking, for business cabins, or "
    "with travel insurance. Free checked bags per passenger: regular 0/1/2, silver 1/2/3, gold 2/3/3 "
    "(basic economy/economy/business); each extra bag costs 50 dollars; insurance is 30 dollars per "
    "passenger. Transfer to a human agent only when the request is outside what the tools can do."
)
FREE_BAGS = {
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 3},
}


# ---- the conversation -------------------------------------------------------------------------
class Conversation:
    """OpenAI-style messages, each model turn traced as a chat span and each tool call as a tool span."""

    def __init__(self, env: AirlineEnv, run: AgentRun, rng: random.Random, instruction: str) -> None:
        self.env, self.run, self.rng = env, run, rng
        self.messages: list[dict] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": instruction},
        ]

    def _turn(self, reply: dict) -> None:
        self.run.chat(MODEL, self.messages, reply, duration_ms=self.rng.uniform(400, 2500))
        self.messages.append(reply)

    def call(self, name: str, **arguments: object) -> tuple[str, bool]:
        """Ask for one tool call, run it against the environment, return (text, is_error)."""
        call_id = "call_" + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(24))
        text_args = json.dumps(arguments)
        function = {"name": name, "arguments": text_args}
        self._turn(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": function}],
            }
        )
        try:
            result, error = self.env.call(name, arguments), False
        except ToolError as exc:
            result, error = str(exc), True
        self.run.tool(name, call_id, text_args, result, error, duration_ms=self.rng.uniform(2, 60))
        self.messages.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": result})
        return result, error

    def read(self, name: str, **arguments: object) -> dict | None:
        """A tool call whose answer is a JSON object; None when it failed."""
        text, error = self.call(name, **arguments)
        value = None if error else json.loads(text)
        return value if isinstance(value, dict) else None

    def search(self, name: str, **arguments: object) -> list:
        """A search tool call; its JSON list of results ([] when it failed)."""
        text, error = self.call(name, **arguments)
        value = None if error else json.loads(text)
        return value if isinstance(value, list) else []

    def say(self, text: str, user_reply: str | None = None) -> None:
        self._turn({"role": "assistant", "content": text})
        if user_reply is not None:
            self.messages.append({"role": "user", "content": user_reply})

    def maybe_think(self, thought: str, p: float = 0.4) -> None:
        if self.rng.random() < p:
            self.call("think", thought=thought)


# ---- playing one task -------------------------------------------------------------------------
def run_task(env: AirlineEnv, recorder: Recorder, task: Task, trial: int, seed: int) -> None:
    """Run one trial of a task against a fresh copy of the environment, traced as one trace."""
    rng = random.Random(f"{seed}/{task.task_id}/{trial}")
    attributes = {"tau.domain": "airline", "tau.task_kind": task.kind, "tau.instruction": task.instruction}
    fresh = env.fork()
    try:
        with recorder.run(task.task_id, trial, attributes) as run:
            conv = Conversation(fresh, run, rng, task.instruction)
            PLAYS[task.kind](conv, task.params)
            if task.params.get("followup") and task.params.get("user_id"):
                conv.messages.append(
                    {"role": "user", "content": "Thanks. Can you list all my reservations now?"}
                )
                play_lookup(conv, {"user_id": task.params["user_id"], "limit": 5})
    finally:
        fresh.close()


def _user(conv: Conversation, user_id: str) -> dict | None:
    return conv.read("get_user_details", user_id=user_id)


def _payment(user: dict, prefer: str, amount: int = 0, exclude: tuple[str, ...] = ()) -> str:
    """The id of the user's payment method of the preferred source, else a card or a large enough gift card."""
    methods = [m for m in user["payment_methods"].values() if m["id"] not in exclude]
    for source in (prefer, "credit_card", "gift_card"):
        for method in methods:
            if method["source"] == source and (source == prefer or method.get("amount", amount) >= amount):
                return method["id"]
    return methods[0]["id"] if methods else "credit_card_0000000"


def play_lookup(conv: Conversation, p: dict) -> None:
    user = _user(conv, p["user_id"])
    if user is None:
        conv.say("I could not find that user id. Could you check it?")
        return
    found = []
    for reservation_id in user["reservations"][: p.get("limit", 3)]:
        record = conv.read("get_reservation_details", reservation_id=reservation_id)
        if record and record["destination"] == p.get("destination", record["destination"]):
            found.append(record)
    conv.maybe_think(f"The user has {len(user['reservations'])} reservations; summarise the matching ones.")
    summary = "; ".join(
        f"{r['reservation_id']}: {r['origin']}-{r['destination']} on {r['flights'][0]['date']}" for r in found
    )
    conv.say(f"Here are your reservations: {summary or 'none match'}.")


def play_typo_user(conv: Conversation, p: dict) -> None:
    _user(conv, p["typo"])
    conv.say(
        "I could not find a user with that id. Could you double-check it?", f"Sorry, it is {p['user_id']}."
    )
    play_lookup(conv, p)


def play_unknown_reservation(conv: Conversation, p: dict) -> None:
    record = conv.read("get_reservation_details", reservation_id=p["bogus"])
    if record is None:
        conv.say(
            "That confirmation number does not exist. May I have your user id?",
            f"My user id is {p['user_id']}.",
        )
        play_lookup(conv, p | {"limit": 2})


def _cheapest(
    options: list, cabin: str, count: int, careful: bool = True, wanted: str | None = None
) -> list[dict] | None:
    """The flight the user asked for, else the cheapest itinerary with enough seats (the first if not careful)."""
    itineraries = [o if isinstance(o, list) else [o] for o in options]
    chosen = [i for i in itineraries if wanted and i[0]["flight_number"] == wanted]
    if chosen:
        return chosen[0]
    if careful:
        itineraries = [i for i in itineraries if all(leg["available_seats"][cabin] >= count for leg in i)]
    if not itineraries:
        return None
    if not careful:
        return itineraries[0]
    return min(itineraries, key=lambda i: sum(leg["prices"][cabin] for leg in i))


def _search(
    conv: Conversation,
    origin: str,
    destination: str,
    date: str,
    cabin: str,
    count: int,
    careful: bool,
    wanted: str | None = None,
) -> list[dict] | None:
    direct = conv.search("search_direct_flight", origin=origin, destination=destination, date=date)
    choice = _cheapest(direct, cabin, count, careful, wanted) if direct else None
    if choice is None:
        onestop = conv.search("search_onestop_flight", origin=origin, destination=destination, date=date)
        choice = _cheapest(onestop, cabin, count, careful) if onestop else None
    return None if choice is None else [leg | {"date": leg.get("date", date)} for leg in choice]


def play_book(conv: Conversation, p: dict) -> None:
    user = _user(conv, p["user_id"])
    if user is None:
        conv.say("I could not find your profile.")
        return
    if conv.rng.random() < 0.3:
        conv.call("list_all_airports")
    _quote_and_book(conv, user, p)


def _quote_and_book(conv: Conversation, user: dict, p: dict) -> None:
    cabin, count = p["cabin"], len(p["passengers"])
    careful, wanted = p.get("careful", True), p.get("wanted")
    legs = _search(conv, p["origin"], p["destination"], p["date"], cabin, count, careful, wanted)
    if legs and p.get("return_date"):
        back = _search(conv, p["destination"], p["origin"], p["return_date"], cabin, count, True)
        legs = legs + back if back else None
    if not legs:
        conv.say(
            "There are no flights with enough seats for that trip. Would another date work?", "No, thank you."
        )
        return
    free = FREE_BAGS[user["membership"]][cabin] * count
    nonfree = max(0, p["bags"] - free)
    fares = " + ".join(f"{leg['prices'][cabin]} * {count}" for leg in legs)
    extras = (f" + 30 * {count}" if p["insurance"] == "yes" else "") + (
        f" + 50 * {nonfree}" if nonfree else ""
    )
    forgot_bags = p.get("forget_bags", False) and nonfree > 0
    expression = fares + (extras.replace(f" + 50 * {nonfree}", "") if forgot_bags else extras)
    if conv.rng.random() < 0.15:
        conv.call("calculate", expression=expression + " $")
    total_text, _ = conv.call("calculate", expression=expression)
    total = round(float(total_text))
    flights = ", ".join(f"{leg['flight_number']} on {leg['date']}" for leg in legs)
    conv.say(f"I found {flights} in {cabin} for {total} dollars in total. Shall I book it?", "Yes, please.")
    _book(conv, user, p, legs, total, nonfree)


def _split(user: dict, prefer: str, total: int) -> list[dict]:
    """How the agent splits a payment: the preferred balance first, the rest on a credit card."""
    method = user["payment_methods"].get(_payment(user, prefer.removesuffix("_all")))
    card = _payment(user, "credit_card")
    if method and method["source"] in ("gift_card", "certificate") and method["id"] != card:
        first = min(total, method["amount"]) if prefer != "gift_card_all" else total
        rest = total - first
        return [{"payment_id": method["id"], "amount": first}] + (
            [{"payment_id": card, "amount": rest}] if rest else []
        )
    return [{"payment_id": card, "amount": total}]


def _slip(user: dict, p: dict) -> str | None:
    """The agent's mistake of building a card id from the last four digits the user read out."""
    cards = [m for m in user["payment_methods"].values() if m["source"] == "credit_card"]
    return f"credit_card_{cards[0]['last_four']}" if p.get("slip") and cards else None


def _book(conv: Conversation, user: dict, p: dict, legs: list[dict], total: int, nonfree: int) -> None:
    payments = _split(user, p["payment"], total)
    slip = _slip(user, p)
    if slip:
        payments = [{"payment_id": slip, "amount": total}]
    for _attempt in range(3):
        text, error = conv.call(
            "book_reservation",
            user_id=p["user_id"],
            origin=p["origin"],
            destination=p["destination"],
            flight_type="round_trip" if p.get("return_date") else "one_way",
            cabin=p["cabin"],
            flights=[{"flight_number": leg["flight_number"], "date": leg["date"]} for leg in legs],
            passengers=p["passengers"],
            payment_methods=payments,
            total_baggages=p["bags"],
            nonfree_baggages=nonfree,
            insurance=p["insurance"],
        )
        if not error:
            conv.say(f"Your reservation {json.loads(text)['reservation_id']} is booked.")
            return
        if "does not add up" in text:
            total = int(text.split("total price is ")[1].split(",")[0])
            payments = _split(user, p["payment"], total)
        elif "not enough balance" in text or "not found" in text:
            payments = [{"payment_id": _payment(user, "credit_card"), "amount": total}]
        elif "not enough seats" in text and p.get("wanted"):
            conv.say(f"{text}. Shall I book the cheapest flight that has seats?", "Yes, please.")
            _quote_and_book(conv, user, p | {"wanted": None, "careful": True})
            return
        else:
            conv.say(f"The booking failed ({text}). Would you like to try other flights?", "No, never mind.")
            return


def _reservation(conv: Conversation, p: dict) -> tuple[dict | None, dict | None]:
    user = _user(conv, p["user_id"]) if conv.rng.random() < 0.7 or p.get("need_user") else None
    record = conv.read("get_reservation_details", reservation_id=p["reservation_id"])
    if record is None:
        conv.say("I could not find that reservation.")
    return user, record


def play_cancel(conv: Conversation, p: dict) -> None:
    user, record = _reservation(conv, p)
    if record is None:
        return
    allowed = (
        record["created_at"] >= "2024-05-14T15:00:00"
        or record["cabin"] == "business"
        or record["insurance"] == "yes"
    )
    conv.maybe_think(
        f"Cancellation allowed: {allowed} (created {record['created_at']}, cabin {record['cabin']})."
    )
    if not allowed and not p.get("insist"):
        conv.say("Sorry, this reservation is not eligible for cancellation under our policy.")
        return
    conv.say(f"I will cancel {record['reservation_id']} and refund the original payment. Confirm?", "Yes.")
    text, error = conv.call("cancel_reservation", reservation_id=record["reservation_id"])
    if error:
        conv.say(f"I could not cancel it: {text}.")
        return
    if conv.rng.random() < 0.4:
        conv.read("get_reservation_details", reservation_id=record["reservation_id"])
    if user is not None and conv.rng.random() < 0.4:
        _user(conv, p["user_id"])
    conv.say("The reservation is cancelled; the refund goes back to the original payment methods.")


def play_change_flight(conv: Conversation, p: dict) -> None:
    user, record = _reservation(conv, p | {"need_user": True})
    if record is None or user is None:
        return
    if record["cabin"] == "basic_economy" and not p.get("upgrade"):
        conv.say("Basic economy flights cannot be modified. Would you like to upgrade the cabin?", "No.")
        return
    count = len(record["passengers"])
    cabin = p.get("upgrade") or record["cabin"]
    if p.get("upgrade"):
        legs = [{"flight_number": f["flight_number"], "date": f["date"]} for f in record["flights"]]
        prices = []
        for leg in record["flights"]:
            found = conv.search(
                "search_direct_flight",
                origin=leg["origin"],
                destination=leg["destination"],
                date=leg["date"],
            )
            prices += [f["prices"][cabin] for f in found if f["flight_number"] == leg["flight_number"]]
        new_total = sum(prices) * count
    else:
        first = record["flights"][0]
        found = _search(conv, first["origin"], first["destination"], p["new_date"], cabin, count, True)
        if not found:
            conv.say("There are no flights with seats on that date.")
            return
        legs = [{"flight_number": leg["flight_number"], "date": leg["date"]} for leg in found]
        legs += [
            {"flight_number": f["flight_number"], "date": f["date"]}
            for f in record["flights"][1:]
            if f["origin"] != first["origin"]
        ]
        new_total = sum(leg["prices"][cabin] for leg in found) * count
    old_total = sum(f["price"] for f in record["flights"][: 1 if not p.get("upgrade") else None]) * count
    difference, _ = conv.call("calculate", expression=f"{new_total} - {old_total}")
    conv.say(f"The change costs {difference} dollars. Which payment method?", f"Use {p['payment']}.")
    _update_with_fallback(
        conv,
        user,
        p,
        "update_reservation_flights",
        reservation_id=record["reservation_id"],
        cabin=cabin,
        flights=legs,
    )


def _update_with_fallback(conv: Conversation, user: dict, p: dict, tool: str, **arguments: object) -> None:
    payment_id = _slip(user, p) or _payment(user, p["payment"], 0)
    tried: tuple[str, ...] = ()
    for _attempt in range(3):
        text, error = conv.call(tool, **arguments, payment_id=payment_id)
        if not error:
            if conv.rng.random() < 0.3:
                conv.read("get_reservation_details", reservation_id=arguments["reservation_id"])
            conv.say("Done, your reservation is updated.")
            return
        tried += (payment_id,)
        conv.say(f"That did not work: {text}. Can we use another payment method?", "Yes, use my credit card.")
        payment_id = _payment(user, "credit_card", 0, exclude=tried)
        if payment_id in tried:
            break
    conv.say("I am sorry, I could not update the reservation.")


def play_baggage(conv: Conversation, p: dict) -> None:
    user, record = _reservation(conv, p | {"need_user": True})
    if record is None or user is None:
        return
    free = FREE_BAGS[user["membership"]][record["cabin"]] * len(record["passengers"])
    total = record["total_baggages"] + p["add"]
    nonfree = max(record["nonfree_baggages"], total - free)
    extra = nonfree - record["nonfree_baggages"]
    fee, _ = conv.call("calculate", expression=f"50 * {extra}")
    conv.say(f"{p['add']} more bags cost {fee} dollars. Proceed?", f"Yes, charge {p['payment']}.")
    _update_with_fallback(
        conv,
        user,
        p,
        "update_reservation_baggages",
        reservation_id=record["reservation_id"],
        total_baggages=total,
        nonfree_baggages=nonfree,
    )


def play_passengers(conv: Conversation, p: dict) -> None:
    record = conv.read("get_reservation_details", reservation_id=p["reservation_id"])
    if record is None:
        conv.say("I could not find that reservation.")
        return
    passengers = [dict(x) for x in record["passengers"]]
    passengers[p["index"] % len(passengers)] = p["new_passenger"]
    if p.get("drop_one") and len(passengers) > 1:
        conv.call(
            "update_reservation_passengers", reservation_id=p["reservation_id"], passengers=passengers[:-1]
        )
        conv.say("The number of passengers cannot change; I will keep the others as they are.", "OK.")
    conv.say(
        f"I will replace passenger {p['index'] % len(passengers) + 1} with {p['new_passenger']['first_name']}. Confirm?",
        "Yes.",
    )
    conv.call("update_reservation_passengers", reservation_id=p["reservation_id"], passengers=passengers)
    conv.say("The passenger details are updated.")


def play_compensation(conv: Conversation, p: dict) -> None:
    user, record = _reservation(conv, p | {"need_user": True})
    if record is None or user is None:
        return
    amount = 100 * len(record["passengers"]) if p["reason"] == "cancelled" else 50 * len(record["passengers"])
    conv.maybe_think(
        f"{user['membership']} member, flight {p['reason']}: offer a {amount} dollar certificate.", 0.7
    )
    conv.say(
        f"I am sorry about the {p['reason']} flight. I can offer a {amount} dollar certificate.",
        "That is fine.",
    )
    conv.call("send_certificate", user_id=p["user_id"], amount=amount)
    if conv.rng.random() < 0.5:
        _user(conv, p["user_id"])
    conv.say("The certificate is in your profile.")


def play_transfer(conv: Conversation, p: dict) -> None:
    if p.get("user_id"):
        _user(conv, p["user_id"])
    conv.maybe_think("This request is outside what my tools can do; transfer to a human agent.", 0.5)
    conv.call("transfer_to_human_agents", summary=p["summary"])
    conv.say("YOU ARE BEING TRANSFERRED TO A HUMAN AGENT. PLEASE HOLD ON.")


def play_status(conv: Conversation, p: dict) -> None:
    record = conv.read("get_reservation_details", reservation_id=p["reservation_id"])
    if record is None:
        conv.say("I could not find that reservation.")
        return
    for leg in record["flights"]:
        found = conv.search(
            "search_direct_flight", origin=leg["origin"], destination=leg["destination"], date=leg["date"]
        )
        seats = [
            f["available_seats"][record["cabin"]] for f in found if f["flight_number"] == leg["flight_number"]
        ]
        conv.say(
            f"{leg['flight_number']} on {leg['date']}: "
            + (f"{seats[0]} seats left." if seats else "not open for booking.")
        )


PLAYS: dict[str, Callable[[Conversation, dict], None]] = {
    "lookup": play_lookup,
    "typo_user": play_typo_user,
    "unknown_reservation": play_unknown_reservation,
    "book": play_book,
    "cancel": play_cancel,
    "change_flight": play_change_flight,
    "baggage": play_baggage,
    "passengers": play_passengers,
    "compensation": play_compensation,
    "transfer": play_transfer,
    "status": play_status,
}


def capture(seed: int, n_tasks: int) -> Recorder:
    """Plan ``n_tasks`` tasks and run all their trials; the recorder holds the traces."""
    env = AirlineEnv.from_seed(seed)
    recorder = Recorder(seed)
    try:
        for task in plan_tasks(env, seed, n_tasks):
            for trial in range(task.trials):
                run_task(env, recorder, task, trial, seed)
    finally:
        env.close()
    return recorder
