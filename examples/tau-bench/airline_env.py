"""A code-driven airline environment: SQLite state and 14 tools with tau-bench's semantics.

Each tool takes keyword arguments and returns text (a JSON document, as ``json.dumps`` of the record
like tau-bench, or a plain sentence). A failed call raises ``ToolError`` whose message is the text
the agent sees ("Error: reservation not found"). The state lives in one SQLite database; ``fork``
gives an independent copy so every task run starts from the same seeded state.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from typing import Any

import airline_data
from airline_data import CABINS, NOW, AirlineData

SCHEMA = """
CREATE TABLE airports (code TEXT PRIMARY KEY, city TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE users (
  user_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, address TEXT, email TEXT, dob TEXT,
  saved_passengers TEXT, membership TEXT, seq INTEGER NOT NULL);
CREATE TABLE payment_methods (
  user_id TEXT NOT NULL, payment_id TEXT NOT NULL, source TEXT NOT NULL, brand TEXT, last_four TEXT,
  amount INTEGER, seq INTEGER NOT NULL, PRIMARY KEY (user_id, payment_id));
CREATE TABLE flights (
  flight_number TEXT PRIMARY KEY, origin TEXT, destination TEXT, departure TEXT, arrival TEXT,
  seq INTEGER NOT NULL);
CREATE TABLE flight_dates (
  flight_number TEXT NOT NULL, date TEXT NOT NULL, status TEXT NOT NULL, times TEXT,
  seats_basic_economy INTEGER, seats_economy INTEGER, seats_business INTEGER,
  price_basic_economy INTEGER, price_economy INTEGER, price_business INTEGER,
  PRIMARY KEY (flight_number, date));
CREATE TABLE reservations (
  reservation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, origin TEXT, destination TEXT,
  flight_type TEXT, cabin TEXT, created_at TEXT, total_baggages INTEGER, nonfree_baggages INTEGER,
  insurance TEXT, status TEXT, seq INTEGER NOT NULL);
CREATE TABLE reservation_flights (
  reservation_id TEXT NOT NULL, idx INTEGER NOT NULL, origin TEXT, destination TEXT,
  flight_number TEXT, date TEXT, price INTEGER, PRIMARY KEY (reservation_id, idx));
CREATE TABLE passengers (
  reservation_id TEXT NOT NULL, idx INTEGER NOT NULL, first_name TEXT, last_name TEXT, dob TEXT,
  PRIMARY KEY (reservation_id, idx));
CREATE TABLE payments (
  reservation_id TEXT NOT NULL, idx INTEGER NOT NULL, payment_id TEXT, amount INTEGER,
  PRIMARY KEY (reservation_id, idx));
"""

CERTIFICATE_IDS = (3221322, 3221323, 3221324)


class ToolError(Exception):
    """A tool call the environment refuses; the message is what the agent sees."""


def dumps(value: object) -> str:
    return json.dumps(value)


class AirlineEnv:
    """The airline database and its tools. Construct with ``AirlineEnv.from_seed(seed)``."""

    def __init__(self, conn: sqlite3.Connection, seed: int) -> None:
        self.conn = conn
        self.seed = seed

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_seed(cls, seed: int) -> AirlineEnv:
        conn = sqlite3.connect(":memory:")
        conn.executescript(SCHEMA)
        _load(conn, airline_data.generate(seed))
        conn.commit()
        return cls(conn, seed)

    def fork(self) -> AirlineEnv:
        """An independent copy of the current state (the way each task run starts fresh)."""
        copy = sqlite3.connect(":memory:")
        self.conn.backup(copy)
        return AirlineEnv(copy, self.seed)

    def close(self) -> None:
        self.conn.close()

    # ---- dispatch -----------------------------------------------------------------------------
    def tools(self) -> dict[str, Callable[..., str]]:
        return {name: getattr(self, name) for name in TOOL_NAMES}

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one tool; raises ToolError for a refused call or malformed arguments."""
        tool = self.tools().get(name)
        if tool is None:
            raise ToolError(f"Error: unknown tool {name}")
        try:
            return tool(**arguments)
        except TypeError as exc:
            raise ToolError(f"Error: {exc}") from None
        except KeyError as exc:
            raise ToolError(f"Error: missing field {exc}") from None

    # ---- reads --------------------------------------------------------------------------------
    def user_record(self, user_id: str) -> dict:
        row = self.conn.execute(
            "SELECT first_name, last_name, address, email, dob, saved_passengers, membership "
            "FROM users WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        if row is None:
            raise ToolError("Error: user not found")
        first, last, address, email, dob, saved, membership = row
        reservations = [
            r
            for (r,) in self.conn.execute(
                "SELECT reservation_id FROM reservations WHERE user_id = ? ORDER BY seq", (user_id,)
            )
        ]
        return {
            "name": {"first_name": first, "last_name": last},
            "address": json.loads(address),
            "email": email,
            "dob": dob,
            "payment_methods": self._payment_methods(user_id),
            "saved_passengers": json.loads(saved),
            "membership": membership,
            "reservations": reservations,
        }

    def _payment_methods(self, user_id: str) -> dict[str, dict]:
        methods: dict[str, dict] = {}
        rows = self.conn.execute(
            "SELECT payment_id, source, brand, last_four, amount FROM payment_methods WHERE user_id = ? ORDER BY seq",
            (user_id,),
        )
        for payment_id, source, brand, last_four, amount in rows:
            if source == "credit_card":
                methods[payment_id] = {
                    "source": source,
                    "brand": brand,
                    "last_four": last_four,
                    "id": payment_id,
                }
            else:
                methods[payment_id] = {"source": source, "amount": amount, "id": payment_id}
        return methods

    def reservation_record(self, reservation_id: str) -> dict:
        row = self.conn.execute(
            "SELECT user_id, origin, destination, flight_type, cabin, created_at, total_baggages, "
            "nonfree_baggages, insurance, status FROM reservations WHERE reservation_id = ?",
            (reservation_id,),
        ).fetchone()
        if row is None:
            raise ToolError("Error: reservation not found")
        user_id, origin, destination, flight_type, cabin, created_at, total, nonfree, insurance, status = row
        record = {
            "reservation_id": reservation_id,
            "user_id": user_id,
            "origin": origin,
            "destination": destination,
            "flight_type": flight_type,
            "cabin": cabin,
            "flights": self._rows_as_dicts(
                "SELECT origin, destination, flight_number, date, price FROM reservation_flights "
                "WHERE reservation_id = ? ORDER BY idx",
                reservation_id,
            ),
            "passengers": self._rows_as_dicts(
                "SELECT first_name, last_name, dob FROM passengers WHERE reservation_id = ? ORDER BY idx",
                reservation_id,
            ),
            "payment_history": self._rows_as_dicts(
                "SELECT payment_id, amount FROM payments WHERE reservation_id = ? ORDER BY idx",
                reservation_id,
            ),
            "created_at": created_at,
            "total_baggages": total,
            "nonfree_baggages": nonfree,
            "insurance": insurance,
        }
        if status is not None:
            record["status"] = status
        return record

    def _rows_as_dicts(self, sql: str, key: str) -> list[dict]:
        cursor = self.conn.execute(sql, (key,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def flight_on(self, flight_number: str, date: str) -> dict | None:
        """The flight's schedule merged with its state on a date (None when it does not fly then)."""
        row = self.conn.execute(
            "SELECT f.origin, f.destination, f.departure, f.arrival, d.status, d.times, "
            "d.seats_basic_economy, d.seats_economy, d.seats_business, "
            "d.price_basic_economy, d.price_economy, d.price_business "
            "FROM flights f JOIN flight_dates d USING (flight_number) WHERE flight_number = ? AND date = ?",
            (flight_number, date),
        ).fetchone()
        if row is None:
            return None
        origin, destination, departure, arrival, status, times, *numbers = row
        record: dict[str, Any] = {
            "flight_number": flight_number,
            "origin": origin,
            "destination": destination,
            "scheduled_departure_time_est": departure,
            "scheduled_arrival_time_est": arrival,
            "status": status,
        }
        if status == "available":
            record["available_seats"] = dict(zip(CABINS, numbers[:3], strict=True))
            record["prices"] = dict(zip(CABINS, numbers[3:], strict=True))
        elif times:
            record.update(json.loads(times))
        return record

    def _flight_exists(self, flight_number: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM flights WHERE flight_number = ?", (flight_number,)).fetchone()
            is not None
        )

    def _flights_between(self, origin: str | None, destination: str | None) -> list[str]:
        sql = "SELECT flight_number FROM flights WHERE (? IS NULL OR origin = ?) AND (? IS NULL OR destination = ?) ORDER BY seq"
        return [n for (n,) in self.conn.execute(sql, (origin, origin, destination, destination))]

    # ---- tools: lookups -----------------------------------------------------------------------
    def get_user_details(self, user_id: str) -> str:
        return dumps(self.user_record(user_id))

    def get_reservation_details(self, reservation_id: str) -> str:
        return dumps(self.reservation_record(reservation_id))

    def list_all_airports(self) -> str:
        return dumps(dict(self.conn.execute("SELECT code, city FROM airports ORDER BY seq").fetchall()))

    def search_direct_flight(self, origin: str, destination: str, date: str) -> str:
        results = []
        for number in self._flights_between(origin, destination):
            flight = self.flight_on(number, date)
            if flight is not None and flight["status"] == "available":
                results.append(flight)
        return dumps(results)

    def search_onestop_flight(self, origin: str, destination: str, date: str) -> str:
        results = []
        for first_number in self._flights_between(origin, None):
            first = self.flight_on(first_number, date)
            if first is None or first["destination"] == destination:
                continue
            overnight = "+1" in first["scheduled_arrival_time_est"]
            second_date = _next_day(date) if overnight else date
            for second_number in self._flights_between(first["destination"], destination):
                second = self.flight_on(second_number, second_date)
                if second is None:
                    continue
                arrival = first["scheduled_arrival_time_est"].removesuffix("+1")
                if not overnight and arrival > second["scheduled_departure_time_est"]:
                    continue
                if first["status"] == "available" and second["status"] == "available":
                    results.append([first | {"date": date}, second | {"date": second_date}])
        return dumps(results)

    def calculate(self, expression: str) -> str:
        if not all(char in "0123456789+-*/(). " for char in expression):
            raise ToolError("Error: invalid characters in expression")
        try:
            return str(round(eval(expression, {"__builtins__": None}, {}), 2))
        except Exception as exc:
            raise ToolError(f"Error: {exc}") from None

    def think(self, thought: str) -> str:
        return ""

    def transfer_to_human_agents(self, summary: str) -> str:
        return "Transfer successful"

    # ---- tools: writes ------------------------------------------------------------------------
    def send_certificate(self, user_id: str, amount: int) -> str:
        self.user_record(user_id)
        methods = self._payment_methods(user_id)
        for number in CERTIFICATE_IDS:
            payment_id = f"certificate_{number}"
            if payment_id not in methods:
                self._add_payment_method(user_id, payment_id, "certificate", amount)
                return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
        return "Too many certificates"

    def book_reservation(
        self,
        user_id: str,
        origin: str,
        destination: str,
        flight_type: str,
        cabin: str,
        flights: list[dict],
        passengers: list[dict],
        payment_methods: list[dict],
        total_baggages: int,
        nonfree_baggages: int,
        insurance: str,
    ) -> str:
        user = self.user_record(user_id)
        if cabin not in CABINS:
            raise ToolError(f"Error: invalid cabin {cabin}")
        legs, total = [], 0
        for wanted in flights:
            flight = self._bookable(wanted["flight_number"], wanted["date"], cabin, len(passengers))
            price = flight["prices"][cabin]
            legs.append(
                {
                    "origin": flight["origin"],
                    "destination": flight["destination"],
                    "flight_number": flight["flight_number"],
                    "date": wanted["date"],
                    "price": price,
                }
            )
            total += price * len(passengers)
        total += 30 * len(passengers) if insurance == "yes" else 0
        total += 50 * nonfree_baggages
        for payment in payment_methods:
            method = user["payment_methods"].get(payment["payment_id"])
            if method is None:
                raise ToolError(f"Error: payment method {payment['payment_id']} not found")
            if method["source"] in ("gift_card", "certificate") and method["amount"] < payment["amount"]:
                raise ToolError(f"Error: not enough balance in payment method {payment['payment_id']}")
        paid = sum(payment["amount"] for payment in payment_methods)
        if paid != total:
            raise ToolError(f"Error: payment amount does not add up, total price is {total}, but paid {paid}")
        for payment in payment_methods:
            self._charge(user_id, user["payment_methods"][payment["payment_id"]], payment["amount"])
        for leg in legs:
            self._take_seats(leg["flight_number"], leg["date"], cabin, len(passengers))
        new_id = self._new_reservation_id()
        _insert_reservation(
            self.conn,
            {
                "reservation_id": new_id,
                "user_id": user_id,
                "origin": origin,
                "destination": destination,
                "flight_type": flight_type,
                "cabin": cabin,
                "flights": legs,
                "passengers": passengers,
                "payment_history": payment_methods,
                "created_at": NOW,
                "total_baggages": total_baggages,
                "nonfree_baggages": nonfree_baggages,
                "insurance": insurance,
            },
        )
        return dumps(self.reservation_record(new_id))

    def cancel_reservation(self, reservation_id: str) -> str:
        record = self.reservation_record(reservation_id)
        if record.get("status") == "cancelled":
            raise ToolError("Error: reservation is already cancelled")
        methods = self._payment_methods(record["user_id"])
        for payment in record["payment_history"]:
            self._append_payment(reservation_id, payment["payment_id"], -payment["amount"])
            method = methods.get(payment["payment_id"])
            if method is not None and method["source"] == "gift_card":
                self._set_balance(record["user_id"], method["id"], method["amount"] + payment["amount"])
                method["amount"] += payment["amount"]
        for leg in record["flights"]:
            self._take_seats(leg["flight_number"], leg["date"], record["cabin"], -len(record["passengers"]))
        self.conn.execute(
            "UPDATE reservations SET status = 'cancelled' WHERE reservation_id = ?", (reservation_id,)
        )
        return dumps(self.reservation_record(reservation_id))

    def update_reservation_flights(
        self, reservation_id: str, cabin: str, flights: list[dict], payment_id: str
    ) -> str:
        record = self.reservation_record(reservation_id)
        count = len(record["passengers"])
        legs, total = [], 0
        for wanted in flights:
            kept = [
                f
                for f in record["flights"]
                if f["flight_number"] == wanted["flight_number"]
                and f["date"] == wanted["date"]
                and cabin == record["cabin"]
            ]
            if kept:
                leg = {
                    "flight_number": kept[0]["flight_number"],
                    "date": kept[0]["date"],
                    "price": kept[0]["price"],
                    "origin": kept[0]["origin"],
                    "destination": kept[0]["destination"],
                }
            else:
                flight = self._bookable(wanted["flight_number"], wanted["date"], cabin, count)
                leg = {
                    "flight_number": flight["flight_number"],
                    "date": wanted["date"],
                    "price": flight["prices"][cabin],
                    "origin": flight["origin"],
                    "destination": flight["destination"],
                }
            legs.append(leg)
            total += leg["price"] * count
        total -= sum(f["price"] for f in record["flights"]) * count
        method = self._payment_for_update(record["user_id"], payment_id, total)
        self._charge(record["user_id"], method, total)
        self.conn.execute("DELETE FROM reservation_flights WHERE reservation_id = ?", (reservation_id,))
        for idx, leg in enumerate(legs):
            self.conn.execute(
                "INSERT INTO reservation_flights VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    reservation_id,
                    idx,
                    leg["origin"],
                    leg["destination"],
                    leg["flight_number"],
                    leg["date"],
                    leg["price"],
                ),
            )
        self.conn.execute(
            "UPDATE reservations SET cabin = ? WHERE reservation_id = ?", (cabin, reservation_id)
        )
        if total != 0:
            self._append_payment(reservation_id, payment_id, total)
        result = self.reservation_record(reservation_id)
        result["flights"] = legs  # tau-bench echoes the legs in the order it built them
        return dumps(result)

    def update_reservation_baggages(
        self, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
    ) -> str:
        record = self.reservation_record(reservation_id)
        total = 50 * max(0, nonfree_baggages - record["nonfree_baggages"])
        method = self._payment_for_update(record["user_id"], payment_id, total)
        self.conn.execute(
            "UPDATE reservations SET total_baggages = ?, nonfree_baggages = ? WHERE reservation_id = ?",
            (total_baggages, nonfree_baggages, reservation_id),
        )
        self._charge(record["user_id"], method, total)
        if total != 0:
            self._append_payment(reservation_id, payment_id, total)
        return dumps(self.reservation_record(reservation_id))

    def update_reservation_passengers(self, reservation_id: str, passengers: list[dict]) -> str:
        record = self.reservation_record(reservation_id)
        if len(passengers) != len(record["passengers"]):
            raise ToolError("Error: number of passengers does not match")
        self.conn.execute("DELETE FROM passengers WHERE reservation_id = ?", (reservation_id,))
        for idx, person in enumerate(passengers):
            self.conn.execute(
                "INSERT INTO passengers VALUES (?, ?, ?, ?, ?)",
                (reservation_id, idx, person["first_name"], person["last_name"], person["dob"]),
            )
        return dumps(self.reservation_record(reservation_id))

    # ---- write helpers ------------------------------------------------------------------------
    def _bookable(self, flight_number: str, date: str, cabin: str, count: int) -> dict:
        if not self._flight_exists(flight_number):
            raise ToolError(f"Error: flight {flight_number} not found")
        flight = self.flight_on(flight_number, date)
        if flight is None:
            raise ToolError(f"Error: flight {flight_number} not found on date {date}")
        if flight["status"] != "available":
            raise ToolError(f"Error: flight {flight_number} not available on date {date}")
        if flight["available_seats"][cabin] < count:
            raise ToolError(f"Error: not enough seats on flight {flight_number}")
        return flight

    def _payment_for_update(self, user_id: str, payment_id: str, total: int) -> dict:
        method = self._payment_methods(user_id).get(payment_id)
        if method is None:
            raise ToolError("Error: payment method not found")
        if method["source"] == "certificate":
            raise ToolError("Error: certificate cannot be used to update reservation")
        if method["source"] == "gift_card" and method["amount"] < total:
            raise ToolError("Error: gift card balance is not enough")
        return method

    def _charge(self, user_id: str, method: dict, amount: int) -> None:
        if method["source"] == "gift_card":
            self._set_balance(user_id, method["id"], method["amount"] - amount)
        elif method["source"] == "certificate":
            self.conn.execute(
                "DELETE FROM payment_methods WHERE user_id = ? AND payment_id = ?", (user_id, method["id"])
            )

    def _set_balance(self, user_id: str, payment_id: str, amount: int) -> None:
        self.conn.execute(
            "UPDATE payment_methods SET amount = ? WHERE user_id = ? AND payment_id = ?",
            (amount, user_id, payment_id),
        )

    def _take_seats(self, flight_number: str, date: str, cabin: str, count: int) -> None:
        self.conn.execute(
            f"UPDATE flight_dates SET seats_{cabin} = seats_{cabin} - ? "
            "WHERE flight_number = ? AND date = ? AND status = 'available'",
            (count, flight_number, date),
        )

    def _add_payment_method(self, user_id: str, payment_id: str, source: str, amount: int) -> None:
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM payment_methods").fetchone()[0]
        self.conn.execute(
            "INSERT INTO payment_methods VALUES (?, ?, ?, NULL, NULL, ?, ?)",
            (user_id, payment_id, source, amount, seq),
        )

    def _append_payment(self, reservation_id: str, payment_id: str, amount: int) -> None:
        idx = self.conn.execute(
            "SELECT COALESCE(MAX(idx), -1) + 1 FROM payments WHERE reservation_id = ?", (reservation_id,)
        ).fetchone()[0]
        self.conn.execute(
            "INSERT INTO payments VALUES (?, ?, ?, ?)", (reservation_id, idx, payment_id, amount)
        )

    def _new_reservation_id(self) -> str:
        count = self.conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
        rng = random.Random(f"{self.seed}:{count}")
        while True:
            candidate = airline_data.reservation_id(rng)
            if (
                self.conn.execute(
                    "SELECT 1 FROM reservations WHERE reservation_id = ?", (candidate,)
                ).fetchone()
                is None
            ):
                return candidate


TOOL_NAMES = (
    "book_reservation",
    "calculate",
    "cancel_reservation",
    "get_reservation_details",
    "get_user_details",
    "list_all_airports",
    "search_direct_flight",
    "search_onestop_flight",
    "send_certificate",
    "think",
    "transfer_to_human_agents",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
)


def _next_day(date: str) -> str:
    return f"{date[:-2]}{int(date[-2:]) + 1:02d}"


def _insert_reservation(conn: sqlite3.Connection, r: dict) -> None:
    seq = conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM reservations").fetchone()[0]
    conn.execute(
        "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            r["reservation_id"],
            r["user_id"],
            r["origin"],
            r["destination"],
            r["flight_type"],
            r["cabin"],
            r["created_at"],
            r["total_baggages"],
            r["nonfree_baggages"],
            r["insurance"],
            r.get("status"),
            seq,
        ),
    )
    for idx, f in enumerate(r["flights"]):
        conn.execute(
            "INSERT INTO reservation_flights VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                r["reservation_id"],
                idx,
                f["origin"],
                f["destination"],
                f["flight_number"],
                f["date"],
                f["price"],
            ),
        )
    for idx, p in enumerate(r["passengers"]):
        conn.execute(
            "INSERT INTO passengers VALUES (?, ?, ?, ?, ?)",
            (r["reservation_id"], idx, p["first_name"], p["last_name"], p["dob"]),
        )
    for idx, p in enumerate(r["payment_history"]):
        conn.execute(
            "INSERT INTO payments VALUES (?, ?, ?, ?)",
            (r["reservation_id"], idx, p["payment_id"], p["amount"]),
        )


def _load(conn: sqlite3.Connection, data: AirlineData) -> None:
    conn.executemany(
        "INSERT INTO airports VALUES (?, ?, ?)", [(c, n, i) for i, (c, n) in enumerate(data.airports.items())]
    )
    seq = 0
    for i, u in enumerate(data.users):
        conn.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                u["user_id"],
                u["name"]["first_name"],
                u["name"]["last_name"],
                json.dumps(u["address"]),
                u["email"],
                u["dob"],
                json.dumps(u["saved_passengers"]),
                u["membership"],
                i,
            ),
        )
        for m in u["payment_methods"].values():
            conn.execute(
                "INSERT INTO payment_methods VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    u["user_id"],
                    m["id"],
                    m["source"],
                    m.get("brand"),
                    m.get("last_four"),
                    m.get("amount"),
                    seq,
                ),
            )
            seq += 1
    for i, f in enumerate(data.flights):
        conn.execute(
            "INSERT INTO flights VALUES (?, ?, ?, ?, ?, ?)",
            (
                f["flight_number"],
                f["origin"],
                f["destination"],
                f["scheduled_departure_time_est"],
                f["scheduled_arrival_time_est"],
                i,
            ),
        )
        for date, state in f["dates"].items():
            seats = state.get("available_seats", {})
            prices = state.get("prices", {})
            times = {k: v for k, v in state.items() if k.endswith("_est")}
            conn.execute(
                "INSERT INTO flight_dates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f["flight_number"],
                    date,
                    state["status"],
                    json.dumps(times) if times else None,
                    *(seats.get(c) for c in CABINS),
                    *(prices.get(c) for c in CABINS),
                ),
            )
    for r in data.reservations:
        _insert_reservation(conn, r)
