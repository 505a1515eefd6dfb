"""Open311 GeoReport v2 client (JSON): service list, request status, new requests.

Written against the spec (wiki.open311.org/GeoReport_v2), not against one city's
server: ids may be numbers or strings, a new request may come back with a
`service_request_id` or only a `token`, and errors come as
`[{"code": 403, "description": "..."}]`, whose description we surface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bot.clients.errors import AgencyUnavailable, NotFound, Rejected
from bot.clients.payload import DEFAULT_TIMEZONE, Reader, as_list
from bot.clients.transport import DEFAULT_TIMEOUT, Response, decode_json, send

API = "open311"
# Ids go into the URL path: anything else could point the call at another resource.
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Service:
    """A type of request citizens can file (GET services)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: tuple[str, ...]
    group: str


@dataclass(frozen=True)
class ServiceRequest:
    """One filed request and where it stands (GET requests/{id})."""

    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: datetime | None
    updated_datetime: datetime | None
    expected_datetime: datetime | None
    address: str
    lat: float | None
    long: float | None
    media_url: str


@dataclass(frozen=True)
class CreatedRequest:
    """The answer to POST requests: an id at once ("realtime") or a token to resolve later ("batch")."""

    service_request_id: str | None
    token: str | None
    service_notice: str
    account_id: str | None


def parse_service(reader: Reader) -> Service:
    keywords = reader.text("keywords")
    return Service(
        service_code=reader.text("service_code", required=True),
        service_name=reader.text("service_name", required=True),
        description=reader.text("description"),
        metadata=reader.flag("metadata"),
        type=reader.text("type"),
        keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()),
        group=reader.text("group"),
    )


def parse_request(reader: Reader) -> ServiceRequest:
    return ServiceRequest(
        service_request_id=reader.text("service_request_id", required=True),
        status=reader.text("status", required=True).lower(),
        status_notes=reader.text("status_notes"),
        service_name=reader.text("service_name"),
        service_code=reader.text("service_code"),
        description=reader.text("description"),
        agency_responsible=reader.text("agency_responsible"),
        service_notice=reader.text("service_notice"),
        requested_datetime=reader.when("requested_datetime"),
        updated_datetime=reader.when("updated_datetime"),
        expected_datetime=reader.when("expected_datetime"),
        address=reader.text("address"),
        lat=reader.number("lat"),
        long=reader.number("long"),
        media_url=reader.text("media_url"),
    )


def parse_created(reader: Reader) -> CreatedRequest:
    request_id = reader.text("service_request_id") or None
    token = reader.text("token") or None
    if request_id is None and token is None:
        raise AgencyUnavailable(API, "unexpected shape: neither service_request_id nor token")
    return CreatedRequest(
        service_request_id=request_id,
        token=token,
        service_notice=reader.text("service_notice"),
        account_id=reader.text("account_id") or None,
    )


@dataclass(frozen=True)
class Open311Error:
    """An Open311 error list: `[{"code": 403, "description": "Invalid api_key"}]`."""

    code: int
    description: str


def parse_error(body: Any) -> Open311Error | None:
    """The first error of an Open311 error list (descriptions joined), or None when it is not one."""
    if not isinstance(body, list) or not body:
        return None
    if not all(isinstance(e, dict) and "code" in e and "service_request_id" not in e for e in body):
        return None
    try:
        code = int(body[0]["code"])
    except (TypeError, ValueError):
        code = 0
    description = "; ".join(str(e["description"]) for e in body if e.get("description"))
    return Open311Error(code, description or "no description")


def _check(response: Response) -> Any:
    """Decoded JSON of a 2xx response; otherwise the matching error with the agency's description.

    Some servers answer 200 with an error list, so the list counts even on a 2xx.
    """
    try:
        body = decode_json(API, response.body)
    except AgencyUnavailable:
        if response.ok:
            raise
        body = None
    error = parse_error(body)
    if response.ok and error is None:
        return body
    status = response.status if not response.ok else (error.code if error and error.code >= 400 else 400)
    description = error.description if error else ""
    if status == 404:
        raise NotFound(API, description or "HTTP 404")
    if status >= 500:
        raise AgencyUnavailable(API, f"HTTP {status}" + (f": {description}" if description else ""))
    raise Rejected(API, status, description)


class Open311Client:
    """One agency's GeoReport v2 endpoint, e.g. `https://311.example/open311/v2`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        api_key: str = "",
        jurisdiction_id: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.timeout = timeout
        self.tz = ZoneInfo(timezone)  # for timestamps a server sends without offset

    def _params(self) -> dict[str, str]:
        return {"jurisdiction_id": self.jurisdiction_id} if self.jurisdiction_id else {}

    async def _get(self, path: str) -> Any:
        response = await send(
            self.session,
            "GET",
            f"{self.base_url}/{path}",
            api=API,
            timeout=self.timeout,
            params=self._params(),
        )
        return _check(response)

    def _reader(self, value: Any, what: str) -> Reader:
        return Reader(API, value, what, self.tz)

    async def services(self) -> list[Service]:
        """Every request type the agency accepts, in the agency's order.

        A 404 here means a wrong base URL, not "no services": it is AgencyUnavailable.
        """
        try:
            body = as_list(API, await self._get("services.json"), "services")
        except NotFound as exc:
            raise AgencyUnavailable(API, exc.reason) from None
        return [parse_service(self._reader(item, "service")) for item in body]

    async def request(self, service_request_id: str) -> ServiceRequest:
        """One request by number; NotFound when the agency has none (404 or an empty list)."""
        request_id = str(service_request_id).strip()
        if not _SAFE_ID.fullmatch(request_id):
            raise NotFound(API, "not a valid request number")
        body = as_list(API, await self._get(f"requests/{request_id}.json"), "requests")
        if not body:
            raise NotFound(API, "no such request")
        return parse_request(self._reader(body[0], "request"))

    async def request_id_for_token(self, token: str) -> str | None:
        """The request number behind a token, or None while the agency is still processing it."""
        if not _SAFE_ID.fullmatch(token):
            raise NotFound(API, "not a valid token")
        body = as_list(API, await self._get(f"tokens/{token}.json"), "tokens")
        if not body:
            return None
        return self._reader(body[0], "token").text("service_request_id") or None

    async def create_request(
        self,
        service_code: str,
        *,
        address_string: str | None = None,
        lat: float | None = None,
        long: float | None = None,
        description: str,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        media_url: str | None = None,
    ) -> CreatedRequest:
        """File a request. Sent once: a POST that timed out may have been created, so no retry."""
        if not address_string and (lat is None or long is None):
            raise ValueError("a request needs address_string or both lat and long")
        form = {
            **self._params(),
            "service_code": service_code,
            "description": description,
            **({"api_key": self.api_key} if self.api_key else {}),
        }
        optional: dict[str, object | None] = {
            "address_string": address_string,
            "lat": lat,
            "long": long,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "media_url": media_url,
        }
        form.update({k: str(v) for k, v in optional.items() if v is not None and v != ""})
        response = await send(
            self.session,
            "POST",
            f"{self.base_url}/requests.json",
            api=API,
            timeout=self.timeout,
            data=form,
            idempotent=False,
        )
        body = as_list(API, _check(response), "created request")
        if not body:
            raise AgencyUnavailable(API, "unexpected shape: empty answer to a new request")
        return parse_created(self._reader(body[0], "created request"))
