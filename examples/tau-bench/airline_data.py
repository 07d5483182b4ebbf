"""Seeded synthetic airline data: airports, flights, users and reservations.

Everything here is made up from a seed (no record comes from tau-bench's own database); the shapes and
value ranges follow tau-bench's airline domain so the tools answer in the same form. Pure: returns
plain dicts, the environment loads them into SQLite.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

TODAY = "2024-05-15"
NOW = "2024-05-15T15:00:00"
DATES = [f"2024-05-{day:02d}" for day in range(1, 31)]
CABINS = ("basic_economy", "economy", "business")

AIRPORTS = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}

FIRST_NAMES = [
    "Mia",
    "Noah",
    "Olivia",
    "Liam",
    "Emma",
    "Ethan",
    "Ava",
    "Lucas",
    "Sofia",
    "Mason",
    "Isabella",
    "Omar",
    "Aarav",
    "Yusuf",
    "Chen",
    "Mei",
    "Raj",
    "Fatima",
    "Ivan",
    "Lei",
    "Amelia",
    "James",
    "Harper",
    "Daiki",
    "Juan",
    "Anya",
    "Sophia",
    "Ahmed",
    "Lucas",
    "Yara",
    "Nia",
    "Kenji",
    "Zoe",
    "Mateo",
]
LAST_NAMES = [
    "Li",
    "Smith",
    "Garcia",
    "Patel",
    "Kim",
    "Nguyen",
    "Brown",
    "Lopez",
    "Davis",
    "Muller",
    "Rossi",
    "Khan",
    "Silva",
    "Ito",
    "Ahmed",
    "Hernandez",
    "Johansson",
    "Wilson",
    "Moore",
    "Sanchez",
    "Lee",
    "Taylor",
    "Thomas",
    "Jackson",
    "Martin",
    "Kovacs",
    "Sato",
    "Gonzalez",
    "Wang",
    "Ali",
]
STREETS = "Sunset Drive,Oak Street,Maple Avenue,Cedar Lane,Elm Street,Pine Road,Lakeview Court,Hillside Way"
CITIES = [
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"),
    ("Chicago", "IL", "606"),
    ("Phoenix", "AZ", "850"),
    ("Orlando", "FL", "328"),
    ("Portland", "OR", "972"),
]
BRANDS = ("visa", "mastercard")
BASE_PRICE = {"basic_economy": (50, 100), "economy": (100, 200), "business": (200, 500)}


@dataclass
class AirlineData:
    """The whole synthetic database, as plain JSON-ready values."""

    airports: dict[str, str]
    flights: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    reservations: list[dict] = field(default_factory=list)


def generate(seed: int, n_users: int = 60, n_reservations: int = 150) -> AirlineData:
    """A complete synthetic database from a seed (same seed, same data)."""
    rng = random.Random(seed)
    data = AirlineData(airports=dict(AIRPORTS))
    data.flights = _flights(rng)
    data.users = [_user(rng, i) for i in range(n_users)]
    users = {user["user_id"]: user for user in data.users}
    taken: set[str] = set()
    for _ in range(n_reservations):
        reservation = _reservation(rng, data)
        if reservation is None or reservation["reservation_id"] in taken:
            continue
        taken.add(reservation["reservation_id"])
        data.reservations.append(reservation)
        users[reservation["user_id"]]["reservations"].append(reservation["reservation_id"])
    return data


def _hhmm(minutes: int) -> str:
    day, rest = divmod(minutes, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}:00"
    return text + ("+1" if day else "")


def _flights(rng: random.Random) -> list[dict]:
    codes = list(AIRPORTS)
    routes: set[tuple[str, str]] = set()
    for origin in codes:
        for destination in rng.sample([c for c in codes if c != origin], 3):
            routes.add((origin, destination))
            routes.add((destination, origin))
    flights = []
    numbers = rng.sample(range(1, 400), len(routes) * 2)
    for origin, destination in sorted(routes):
        duration = rng.randrange(1, 7) * 60 + rng.choice((0, 30))
        for _ in range(rng.choice((1, 1, 2))):
            departure = rng.randrange(0, 24) * 60
            flights.append(
                {
                    "flight_number": f"HAT{numbers.pop():03d}",
                    "origin": origin,
                    "destination": destination,
                    "scheduled_departure_time_est": _hhmm(departure),
                    "scheduled_arrival_time_est": _hhmm(departure + duration),
                    "dates": {date: _flight_date(rng, date, departure, duration) for date in DATES},
                }
            )
    return flights


def _flight_date(rng: random.Random, date: str, departure: int, duration: int) -> dict:
    day = int(date[-2:])
    hour, minute = divmod(departure, 60)
    start = f"{date}T{hour:02d}:{minute:02d}:00"
    end_day, end = divmod(departure + duration + rng.choice((-10, 0, 15, 40)), 24 * 60)
    end_text = f"2024-05-{day + end_day:02d}T{end // 60:02d}:{end % 60:02d}:00"
    roll = rng.random()
    if day < 15:
        if roll < 0.05:
            return {"status": "cancelled"}
        return {"status": "landed", "actual_departure_time_est": start, "actual_arrival_time_est": end_text}
    if day == 15:
        status = rng.choice(("landed", "flying", "on time", "delayed"))
        if status == "landed":
            return {"status": status, "actual_departure_time_est": start, "actual_arrival_time_est": end_text}
        if status == "flying":
            return {
                "status": status,
                "actual_departure_time_est": start,
                "estimated_arrival_time_est": end_text,
            }
        return {
            "status": status,
            "estimated_departure_time_est": start,
            "estimated_arrival_time_est": end_text,
        }
    if day <= 17 and roll < 0.1:
        return {
            "status": "delayed",
            "estimated_departure_time_est": start,
            "estimated_arrival_time_est": end_text,
        }
    if roll < 0.02:
        return {"status": "cancelled"}
    seats = {cabin: rng.randrange(0, 21) for cabin in CABINS}
    if roll > 0.9:
        seats["business"] = rng.randrange(0, 3)
    prices = {cabin: rng.randrange(*BASE_PRICE[cabin]) for cabin in CABINS}
    return {"status": "available", "available_seats": seats, "prices": prices}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _person(rng: random.Random) -> dict:
    dob = f"{rng.randrange(1945, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return {"first_name": rng.choice(FIRST_NAMES), "last_name": rng.choice(LAST_NAMES), "dob": dob}


def _user(rng: random.Random, index: int) -> dict:
    person = _person(rng)
    first, last = person["first_name"], person["last_name"]
    city, province, zip_prefix = rng.choice(CITIES)
    methods: dict[str, dict] = {}
    for _ in range(rng.choice((1, 1, 2))):
        pid = f"credit_card_{_digits(rng, 7)}"
        methods[pid] = {
            "source": "credit_card",
            "brand": rng.choice(BRANDS),
            "last_four": _digits(rng, 4),
            "id": pid,
        }
    for _ in range(rng.choice((0, 1, 1, 2))):
        pid = f"gift_card_{_digits(rng, 7)}"
        methods[pid] = {"source": "gift_card", "amount": rng.randrange(0, 300), "id": pid}
    for _ in range(rng.choice((0, 0, 1))):
        pid = f"certificate_{_digits(rng, 7)}"
        methods[pid] = {"source": "certificate", "amount": rng.choice((100, 150, 250, 500)), "id": pid}
    address = {
        "address1": f"{rng.randrange(100, 999)} {rng.choice(STREETS.split(','))}",
        "address2": f"Suite {rng.randrange(100, 999)}",
        "city": city,
        "country": "USA",
        "province": province,
        "zip": f"{zip_prefix}{_digits(rng, 2)}",
    }
    return {
        "user_id": f"{first.lower()}_{last.lower()}_{1000 + index * 137 + rng.randrange(0, 137)}",
        "name": {"first_name": first, "last_name": last},
        "address": address,
        "email": f"{first.lower()}.{last.lower()}{_digits(rng, 4)}@example.com",
        "dob": person["dob"],
        "payment_methods": methods,
        "saved_passengers": [_person(rng) for _ in range(rng.choice((0, 1, 1, 2)))],
        "membership": rng.choice(("regular", "regular", "silver", "gold")),
        "reservations": [],
    }


def reservation_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))


def _pick_leg(rng: random.Random, data: AirlineData, origin: str | None, date: str) -> dict | None:
    options = [f for f in data.flights if origin is None or f["origin"] == origin]
    flight = rng.choice(options)
    if flight["dates"][date]["status"] == "cancelled":
        return None
    return flight


def _reservation(rng: random.Random, data: AirlineData) -> dict | None:
    user = rng.choice(data.users)
    date = rng.choice(DATES)
    out = _pick_leg(rng, data, None, date)
    if out is None:
        return None
    cabin = rng.choice(CABINS)
    flight_type = rng.choice(("one_way", "round_trip"))
    legs = [(out, date)]
    if flight_type == "round_trip":
        back = [
            f for f in data.flights if f["origin"] == out["destination"] and f["destination"] == out["origin"]
        ]
        back_date = DATES[min(len(DATES) - 1, DATES.index(date) + rng.randrange(1, 6))]
        if not back or back[0]["dates"][back_date]["status"] == "cancelled":
            return None
        legs.append((rng.choice(back), back_date))
    passengers = [{k: user["name"][k] for k in ("first_name", "last_name")} | {"dob": user["dob"]}]
    passengers += [_person(rng) for _ in range(rng.choice((0, 0, 1, 2)))]
    flights = []
    for flight, day in legs:
        low, high = BASE_PRICE[cabin]
        flights.append(
            {
                "origin": flight["origin"],
                "destination": flight["destination"],
                "flight_number": flight["flight_number"],
                "date": day,
                "price": rng.randrange(low, high),
            }
        )
    total_bags = rng.randrange(0, len(passengers) + 2)
    nonfree = rng.randrange(0, total_bags + 1) if cabin == "basic_economy" else 0
    insurance = rng.choice(("yes", "no"))
    amount = sum(int(f["price"]) for f in flights) * len(passengers) + 50 * nonfree
    amount += 30 * len(passengers) if insurance == "yes" else 0
    methods = [m for m in user["payment_methods"].values() if m["source"] != "certificate"]
    payment = rng.choice(methods)["id"]
    created_day = max(1, int(date[-2:]) - rng.randrange(1, 20))
    record = {
        "reservation_id": reservation_id(rng),
        "user_id": user["user_id"],
        "origin": out["origin"],
        "destination": out["destination"],
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": flights,
        "passengers": passengers,
        "payment_history": [{"payment_id": payment, "amount": amount}],
        "created_at": f"2024-05-{min(created_day, 15):02d}T{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}:{rng.randrange(0, 60):02d}",
        "total_baggages": total_bags,
        "nonfree_baggages": nonfree,
        "insurance": insurance,
    }
    if rng.random() < 0.08:
        record["payment_history"].append({"payment_id": payment, "amount": -amount})
        record["status"] = "cancelled"
    return record
