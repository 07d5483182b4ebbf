"""The airline tools as the model sees them (``gen_ai.tool.definitions``): name, description, JSON schema."""

from __future__ import annotations


def _obj(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


_S = {"type": "string"}
_I = {"type": "integer"}
_RES = {"reservation_id": {"type": "string", "description": "Reservation id, such as '8JX2WO'."}}
_USER = {"user_id": {"type": "string", "description": "User id, such as 'sara_doe_496'."}}
_LEG = _obj({"flight_number": _S, "date": {"type": "string", "description": "YYYY-MM-DD"}})
_PERSON = _obj({"first_name": _S, "last_name": _S, "dob": {"type": "string", "description": "YYYY-MM-DD"}})
_PAY = _obj({"payment_id": _S, "amount": {"type": "number"}})
_CABIN = {"type": "string", "enum": ["basic_economy", "economy", "business"]}
_ROUTE = _obj(
    {
        "origin": {"type": "string", "description": "IATA code, such as 'JFK'."},
        "destination": {"type": "string", "description": "IATA code, such as 'LAX'."},
        "date": {"type": "string", "description": "YYYY-MM-DD"},
    }
)


def _tool(name: str, description: str, parameters: dict) -> dict:
    return {"type": "function", "name": name, "description": description, "parameters": parameters}


TOOL_DEFINITIONS = [
    _tool(
        "book_reservation",
        "Book a reservation.",
        _obj(
            {
                **_USER,
                "origin": _S,
                "destination": _S,
                "flight_type": {"type": "string", "enum": ["one_way", "round_trip"]},
                "cabin": _CABIN,
                "flights": {"type": "array", "items": _LEG},
                "passengers": {"type": "array", "items": _PERSON},
                "payment_methods": {"type": "array", "items": _PAY},
                "total_baggages": _I,
                "nonfree_baggages": _I,
                "insurance": {"type": "string", "enum": ["yes", "no"]},
            }
        ),
    ),
    _tool(
        "calculate",
        "Calculate the result of a mathematical expression.",
        _obj(
            {
                "expression": {
                    "type": "string",
                    "description": "Numbers, + - * / ( ) . and spaces, such as '2 * 3 + 4'.",
                }
            }
        ),
    ),
    _tool("cancel_reservation", "Cancel the whole reservation.", _obj(_RES)),
    _tool("get_reservation_details", "Get the details of a reservation.", _obj(_RES)),
    _tool("get_user_details", "Get the details of a user, including their reservations.", _obj(_USER)),
    _tool("list_all_airports", "List all airports and their cities.", _obj({})),
    _tool("search_direct_flight", "Search direct flights between two cities on a specific date.", _ROUTE),
    _tool("search_onestop_flight", "Search one-stop flights between two cities on a specific date.", _ROUTE),
    _tool(
        "send_certificate",
        "Send a certificate to a user. Be careful!",
        _obj({**_USER, "amount": {"type": "number"}}),
    ),
    _tool(
        "think",
        "Think about something; no new information, no change to the database.",
        _obj({"thought": _S}),
    ),
    _tool(
        "transfer_to_human_agents",
        "Transfer the user to a human agent, with a summary of the issue.",
        _obj({"summary": _S}),
    ),
    _tool(
        "update_reservation_baggages",
        "Update the baggage information of a reservation.",
        _obj({**_RES, "total_baggages": _I, "nonfree_baggages": _I, "payment_id": _S}),
    ),
    _tool(
        "update_reservation_flights",
        "Update the flight information of a reservation.",
        _obj({**_RES, "cabin": _CABIN, "flights": {"type": "array", "items": _LEG}, "payment_id": _S}),
    ),
    _tool(
        "update_reservation_passengers",
        "Update the passenger information of a reservation.",
        _obj({**_RES, "passengers": {"type": "array", "items": _PERSON}}),
    ),
]
