"""The errors domain code raises. Each API family renders them in its own documented body.

    SdehubError                 500
    ├── BadRequest              400  (carries every field error: path + message)
    ├── Unauthorized            401  (carries LivePerson's error code where one is documented)
    ├── Forbidden               403
    ├── NotFound                404
    ├── Conflict                409
    ├── Gone                    410
    ├── TooManyRequests         429  (carries Retry-After seconds)
    └── Unavailable             503

``lp_code`` is the code of the LivePerson API the request came through (the Send API's 40102,
the Monitoring API's internalCode ...); renderers fall back to a default per status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sdehub.model.validation import FieldError


class SdehubError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[FieldError] = (),
        lp_code: int | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)
        self.lp_code = lp_code
        if title is not None:
            self.title = title

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross from the writer process to the server: rebuild them whole, whatever
        # keyword-only arguments a subclass's constructor takes.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[SdehubError], message: str, state: dict[str, Any]) -> SdehubError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class BadRequest(SdehubError):
    status = 400
    title = "Bad Request"

    @classmethod
    def from_errors(cls, errors: Sequence[FieldError], *, lp_code: int | None = None) -> BadRequest:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return cls(f"{first.path}: {first.message}{more}", errors=errors, lp_code=lp_code)


class Unauthorized(SdehubError):
    status = 401
    title = "Unauthorized"


class Forbidden(SdehubError):
    status = 403
    title = "Forbidden"


class NotFound(SdehubError):
    status = 404
    title = "Not Found"


class Conflict(SdehubError):
    status = 409
    title = "Conflict"


class Gone(SdehubError):
    status = 410
    title = "Gone"


class TooManyRequests(SdehubError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, *, retry_after: int, lp_code: int | None = None) -> None:
        super().__init__(message, lp_code=lp_code)
        self.retry_after = retry_after


class Unavailable(SdehubError):
    status = 503
    title = "Service Unavailable"


def expect_revision(subject: str, current: int, expected: int | None) -> None:
    """The optimistic lock of the revisioned documents (catalog, outcomes, widgets): a write that
    names the revision it was based on (``If-Match``) is refused once another came first.
    ``subject`` names the document with its verb ("the catalog is")."""
    if expected is not None and expected != current:
        raise Conflict(
            f"{subject} at revision {current}, not {expected}: read it again and apply the "
            "change again",
            errors=[FieldError("$header.If-Match", f"expected revision {current}")],
        )
