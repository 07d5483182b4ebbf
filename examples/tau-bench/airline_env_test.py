"""The airline environment: tau-bench semantics, real state changes, realistic errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from airline_env import AirlineEnv, ToolError

SEED = 7


def refused(message: str) -> AbstractContextManager[pytest.ExceptionInfo[ToolError]]:
    """Expect the tool call to fail with exactly this message."""
    return pytest.raises(ToolError, match=f"^{re.escape(message)}$")


@pytest.fixture(scope="module")
def base() -> AirlineEnv:
    return AirlineEnv.from_seed(SEED)


@pytest.fixture
def env(base: AirlineEnv) -> Iterator[AirlineEnv]:
    fresh = base.fork()
    yield fresh
    fresh.close()


def bookable(env: AirlineEnv, cabin: str = "economy", seats: int = 3) -> dict:
    """The first flight-date open for booking with enough seats in the cabin."""
    for number, date in env.conn.execute(
        "SELECT flight_number, date FROM flight_dates WHERE status = 'available' ORDER BY flight_number, date"
    ):
        flight = env.flight_on(number, date)
        if flight and flight["available_seats"][cabin] >= seats:
            return flight | {"date": date}
    raise AssertionError("no bookable flight")


def user_with(env: AirlineEnv, source: str) -> tuple[str, str]:
    """A user id and one of their payment ids of the given source."""
    row = env.conn.execute(
        "SELECT user_id, payment_id FROM payment_methods WHERE source = ? ORDER BY seq LIMIT 1", (source,)
    ).fetchone()
    return row[0], row[1]


def book(
    env: AirlineEnv, user_id: str, flight: dict, payments: list[dict], cabin: str = "economy", **extra
) -> dict:
    arguments = {
        "user_id": user_id,
        "origin": flight["origin"],
        "destination": flight["destination"],
        "flight_type": "one_way",
        "cabin": cabin,
        "flights": [{"flight_number": flight["flight_number"], "date": flight["date"]}],
        "passengers": [{"first_name": "Ana", "last_name": "Ortiz", "dob": "1990-01-01"}],
        "payment_methods": payments,
        "total_baggages": 0,
        "nonfree_baggages": 0,
        "insurance": "no",
    } | extra
    return json.loads(env.call("book_reservation", arguments))


def test_same_seed_same_database() -> None:
    a, b = AirlineEnv.from_seed(SEED), AirlineEnv.from_seed(SEED)
    assert a.list_all_airports() == b.list_all_airports()
    assert list(a.conn.iterdump()) == list(b.conn.iterdump())
    assert list(AirlineEnv.from_seed(SEED + 1).conn.iterdump()) != list(a.conn.iterdump())


def test_user_and_reservation_lookups(env: AirlineEnv) -> None:
    user_id, _ = user_with(env, "credit_card")
    user = json.loads(env.get_user_details(user_id))
    assert set(user) >= {"name", "address", "email", "dob", "payment_methods", "membership", "reservations"}
    for reservation_id in user["reservations"]:
        record = json.loads(env.get_reservation_details(reservation_id))
        assert record["user_id"] == user_id
        assert (
            len(reservation_id) == 6 and reservation_id.isalnum() and reservation_id == reservation_id.upper()
        )
    with refused("Error: user not found"):
        env.call("get_user_details", {"user_id": "nobody_0000"})
    with refused("Error: reservation not found"):
        env.call("get_reservation_details", {"reservation_id": "ZZZZZZ"})


def test_booking_takes_seats_charges_and_is_read_back(env: AirlineEnv) -> None:
    user_id, gift = user_with(env, "gift_card")
    env._set_balance(user_id, gift, 1000)
    flight = bookable(env)
    price = flight["prices"]["economy"]
    record = book(env, user_id, flight, [{"payment_id": gift, "amount": price}])
    assert record["flights"][0]["price"] == price and record["created_at"] == "2024-05-15T15:00:00"
    after = env.flight_on(flight["flight_number"], flight["date"])
    assert after is not None
    assert after["available_seats"]["economy"] == flight["available_seats"]["economy"] - 1
    user = json.loads(env.get_user_details(user_id))
    assert user["payment_methods"][gift]["amount"] == 1000 - price
    assert user["reservations"][-1] == record["reservation_id"]
    assert json.loads(env.get_reservation_details(record["reservation_id"])) == record


def test_booking_errors(env: AirlineEnv) -> None:
    user_id, gift = user_with(env, "gift_card")
    env._set_balance(user_id, gift, 10)
    flight = bookable(env)
    price = flight["prices"]["economy"]
    with refused("Error: payment method credit_card_0 not found"):
        book(env, user_id, flight, [{"payment_id": "credit_card_0", "amount": price}])
    with refused(f"Error: not enough balance in payment method {gift}"):
        book(env, user_id, flight, [{"payment_id": gift, "amount": price}])
    with refused(f"Error: payment amount does not add up, total price is {price + 30}, but paid 1"):
        book(env, user_id, flight, [{"payment_id": gift, "amount": 1}], insurance="yes")
    env.conn.execute(
        "UPDATE flight_dates SET seats_economy = 0 WHERE flight_number = ? AND date = ?",
        (flight["flight_number"], flight["date"]),
    )
    with refused(f"Error: not enough seats on flight {flight['flight_number']}"):
        book(env, user_id, flight, [{"payment_id": gift, "amount": price}])
    with refused(f"Error: flight {flight['flight_number']} not available on date 2024-05-02"):
        book(env, user_id, flight | {"date": "2024-05-02"}, [{"payment_id": gift, "amount": price}])


def test_cancel_refunds_and_cannot_repeat(env: AirlineEnv) -> None:
    user_id, gift = user_with(env, "gift_card")
    env._set_balance(user_id, gift, 1000)
    flight = bookable(env)
    price = flight["prices"]["economy"]
    record = book(env, user_id, flight, [{"payment_id": gift, "amount": price}])
    cancelled = json.loads(env.cancel_reservation(record["reservation_id"]))
    assert cancelled["status"] == "cancelled"
    assert cancelled["payment_history"] == [
        {"payment_id": gift, "amount": price},
        {"payment_id": gift, "amount": -price},
    ]
    assert json.loads(env.get_user_details(user_id))["payment_methods"][gift]["amount"] == 1000
    restored = env.flight_on(flight["flight_number"], flight["date"])
    assert restored is not None and restored["available_seats"] == flight["available_seats"]
    assert json.loads(env.get_reservation_details(record["reservation_id"]))["status"] == "cancelled"
    with refused("Error: reservation is already cancelled"):
        env.call("cancel_reservation", {"reservation_id": record["reservation_id"]})


def test_update_flights_baggage_and_passengers(env: AirlineEnv) -> None:
    user_id, gift = user_with(env, "gift_card")
    env._set_balance(user_id, gift, 1000)
    flight = bookable(env)
    record = book(env, user_id, flight, [{"payment_id": gift, "amount": flight["prices"]["economy"]}])
    rid = record["reservation_id"]
    legs = [{"flight_number": flight["flight_number"], "date": flight["date"]}]
    env._set_balance(user_id, gift, 0)
    with refused("Error: gift card balance is not enough"):
        env.call(
            "update_reservation_flights",
            {"reservation_id": rid, "cabin": "business", "flights": legs, "payment_id": gift},
        )
    with refused("Error: payment method not found"):
        env.call(
            "update_reservation_baggages",
            {"reservation_id": rid, "total_baggages": 2, "nonfree_baggages": 1, "payment_id": "gift_card_0"},
        )
    env._set_balance(user_id, gift, 500)
    bags = json.loads(env.update_reservation_baggages(rid, 3, 2, gift))
    assert (bags["total_baggages"], bags["nonfree_baggages"]) == (3, 2)
    assert bags["payment_history"][-1] == {"payment_id": gift, "amount": 100}
    assert json.loads(env.get_user_details(user_id))["payment_methods"][gift]["amount"] == 400
    new = [{"first_name": "Ben", "last_name": "Park", "dob": "1970-03-03"}]
    assert json.loads(env.update_reservation_passengers(rid, new))["passengers"] == new
    with refused("Error: number of passengers does not match"):
        env.call("update_reservation_passengers", {"reservation_id": rid, "passengers": new * 2})


def test_certificates(env: AirlineEnv) -> None:
    user_id, _ = user_with(env, "credit_card")
    assert (
        env.send_certificate(user_id, 150)
        == f"Certificate certificate_3221322 added to user {user_id} with amount 150."
    )
    methods = json.loads(env.get_user_details(user_id))["payment_methods"]
    assert methods["certificate_3221322"] == {
        "source": "certificate",
        "amount": 150,
        "id": "certificate_3221322",
    }
    reservation = json.loads(env.get_user_details(user_id))["reservations"]
    if reservation:
        with refused("Error: certificate cannot be used to update reservation"):
            env.call(
                "update_reservation_baggages",
                {
                    "reservation_id": reservation[0],
                    "total_baggages": 9,
                    "nonfree_baggages": 9,
                    "payment_id": "certificate_3221322",
                },
            )


def test_search_and_calculate(env: AirlineEnv) -> None:
    flight = bookable(env)
    direct = json.loads(env.search_direct_flight(flight["origin"], flight["destination"], flight["date"]))
    assert flight["flight_number"] in {f["flight_number"] for f in direct}
    assert all(f["status"] == "available" for f in direct)
    for first, second in json.loads(env.search_onestop_flight("JFK", "SEA", "2024-05-20")):
        assert first["origin"] == "JFK" and second["destination"] == "SEA"
        assert first["destination"] == second["origin"] and first["date"] == "2024-05-20"
    assert env.calculate("(120 + 30) * 2") == "300"
    assert env.calculate("10 / 4") == "2.5"
    with refused("Error: invalid characters in expression"):
        env.call("calculate", {"expression": "2 * $30"})
    with refused("Error: division by zero"):
        env.call("calculate", {"expression": "1 / 0"})
    assert env.think("x") == "" and env.transfer_to_human_agents("s") == "Transfer successful"


def test_fork_is_isolated(base: AirlineEnv) -> None:
    fork = base.fork()
    rid = base.conn.execute(
        "SELECT reservation_id FROM reservations WHERE status IS NULL LIMIT 1"
    ).fetchone()[0]
    fork.cancel_reservation(rid)
    assert "status" not in json.loads(base.get_reservation_details(rid))
