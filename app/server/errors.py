"""OpenAI-shaped error answers: {"error": {"message", "type", "param", "code"}}.

The official clients read `message` and map the HTTP status to an exception class
(400 BadRequestError, 401 AuthenticationError, 413 and others APIStatusError, 429
RateLimitError, 503 InternalServerError), so the status carries the kind and `message`
says, in plain words, what to change.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

# `type` values, as OpenAI and llama-server use them.
INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
NOT_FOUND = "not_found_error"
RATE_LIMIT = "rate_limit_error"
SERVER = "server_error"
UNAVAILABLE = "unavailable_error"


class ApiError(Exception):
    """Raised anywhere in a request's handling; app.py answers it as JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.logged = False  # set once the request's one log line is written

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_param(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)
