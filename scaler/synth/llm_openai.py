"""``openai:MODEL``: any server that speaks the OpenAI chat-completions protocol.

vLLM and SGLang servers and the hosted APIs all answer ``POST {base_url}/chat/completions``, so one
client over the standard library covers them without tying the core to an SDK. Synthesis sends
thousands of requests from several threads to servers that shed load (429), restart (5xx,
refused connections) or stall, so the client bounds how many requests are in flight, retries what
is transient with jittered exponential backoff, and fails at once on what a retry cannot fix (a
wrong model name, a bad key), with the server's own message.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import math
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, cast

from scaler.errors import ConfigError
from scaler.logs import get_logger
from scaler.synth.llm import (
    Completion,
    LLMError,
    LLMRequest,
    check_sampling,
    number_option,
    whole_option,
)

log = get_logger(__name__)

DEFAULT_BASE_URL = "http://localhost:8000/v1"

#: How much of a server's reply an error message quotes.
_EXCERPT = 500

#: Statuses worth another try: the server is overloaded, restarting, or timed the request out.
_RETRYABLE = frozenset({408, 429})


def _excerpt(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _server_message(body: bytes) -> str:
    """The error message of an OpenAI-style error reply, else the body itself (truncated).

    OpenAI and newer vLLM nest it as ``{"error": {"message"}}``; older vLLM and SGLang put
    ``message`` at the top level.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _excerpt(body)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return _excerpt(error["message"])
        if isinstance(error, str):
            return _excerpt(error)
        if isinstance(data.get("message"), str):
            return _excerpt(data["message"])
    return _excerpt(body)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _usage_count(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Transient(Exception):
    """One attempt failed in a way another attempt may not; carries the wait a server asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIClient:
    """A client for an OpenAI-compatible chat-completions server; safe to share between threads.

    ``seed`` seeds the backoff jitter (tests); ``sleep`` replaces ``time.sleep`` between
    attempts (tests run the retries without waiting).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        concurrency: int = 8,
        temperature: float = 0.6,
        max_tokens: int | None = None,
        top_p: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"must be a non-empty string, got {model!r}", field="model")
        self.model = model
        url = base_url if base_url is not None else os.environ.get("OPENAI_BASE_URL")
        if not isinstance(url, str | None):
            raise ConfigError(f"must be an http:// or https:// URL, got {url!r}", field="base_url")
        url = (url or DEFAULT_BASE_URL).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"must be an http:// or https:// URL, got {url!r}", field="base_url")
        self.base_url = url
        self.url = f"{url}/chat/completions"
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if not isinstance(key, str | None):
            raise ConfigError(f"must be a string, got {key!r}", field="api_key")
        self._api_key = key or None
        self.timeout_s = number_option("timeout_s", timeout_s, minimum=0, strict=True)
        self.retries = whole_option("retries", retries, minimum=0)
        self.backoff_s = number_option("backoff_s", backoff_s, minimum=0, strict=False)
        self.max_backoff_s = number_option("max_backoff_s", max_backoff_s, minimum=0, strict=False)
        self.concurrency = whole_option("concurrency", concurrency, minimum=1)
        self.temperature, self.top_p, self.max_tokens = check_sampling(
            temperature, top_p, max_tokens
        )
        if extra_body is not None and not isinstance(extra_body, Mapping):
            raise ConfigError(f"must be a table, got {extra_body!r}", field="extra_body")
        self.extra_body = dict(extra_body or {})
        try:
            json.dumps(self.extra_body)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"must be JSON-serializable: {exc}", field="extra_body") from exc
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._usage = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0, "retries": 0}
        # Built once, so that proxy settings are read from the environment once, like requests.
        self._opener = urllib.request.build_opener()

    @property
    def usage(self) -> dict[str, int]:
        """Running totals: tokens of answered requests, HTTP requests sent, retries among them."""
        with self._lock:
            return dict(self._usage)

    def payload(self, request: LLMRequest) -> dict[str, Any]:
        """The JSON body of one request; ``extra_body`` goes last so it can override anything."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in request.messages],
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.top_p is not None:
            body["top_p"] = self.top_p
        body.update(self.extra_body)
        return body

    def complete(self, request: LLMRequest) -> Completion:
        data = json.dumps(self.payload(request), ensure_ascii=False).encode("utf-8")
        attempts = self.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                with self._lock:
                    self._usage["retries"] += 1
            try:
                body = self._post(data)
            except _Transient as exc:
                last = str(exc)
                if attempt + 1 == attempts:
                    break
                delay = self._delay(attempt, exc.retry_after)
                log.warning(
                    "llm.retry",
                    url=self.url,
                    problem_id=request.problem_id,
                    stage=request.stage,
                    attempt=attempt + 1,
                    of=attempts,
                    delay_s=round(delay, 3),
                    error=last,
                )
                self._sleep(delay)
                continue
            return self._completion(body, request)
        raise LLMError(
            f"{self.url}: no answer for problem {request.problem_id!r}, stage {request.stage}, "
            f"attempt {request.attempt} after {attempts} "
            f"{'attempt' if attempts == 1 else 'attempts'}; last error: {last}"
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """The server's ``Retry-After`` where given, else full jitter over an exponential cap."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        cap = min(self.max_backoff_s, self.backoff_s * 2.0**attempt)
        with self._lock:
            return self._rng.uniform(0.0, cap)

    def _post(self, data: bytes) -> bytes:
        """One HTTP request; transient failures raise ``_Transient``, the rest ``LLMError``."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        http_request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with self._slots:
            with self._lock:
                self._usage["requests"] += 1
            try:
                with self._opener.open(http_request, timeout=self.timeout_s) as response:
                    return cast(bytes, response.read())
            except urllib.error.HTTPError as exc:
                try:
                    body = exc.read()
                except (OSError, http.client.HTTPException):
                    body = b""
                finally:
                    exc.close()
                message = _server_message(body) or exc.reason
                if exc.code in _RETRYABLE or exc.code >= 500:
                    raise _Transient(
                        f"HTTP {exc.code}: {message}", _retry_after(exc.headers.get("Retry-After"))
                    ) from exc
                raise LLMError(f"{self.url}: HTTP {exc.code}: {message}") from exc
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError):
                    raise _Transient(f"no answer within {self.timeout_s:g} s") from exc
                raise _Transient(f"cannot connect: {reason}") from exc
            except TimeoutError as exc:
                raise _Transient(f"no answer within {self.timeout_s:g} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"connection failed: {type(exc).__name__}: {exc}") from exc

    def _completion(self, body: bytes, request: LLMRequest) -> Completion:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LLMError(
                f"{self.url}: the reply is not JSON ({exc}); it begins: {_excerpt(body)!r}"
            ) from exc
        text = None
        with contextlib.suppress(KeyError, IndexError, TypeError):
            text = data["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise LLMError(
                f"{self.url}: the reply for problem {request.problem_id!r}, stage "
                f"{request.stage} has no choices[0].message.content: {_excerpt(body)!r}"
            )
        usage = data.get("usage")
        prompt_tokens = _usage_count(usage, "prompt_tokens")
        completion_tokens = _usage_count(usage, "completion_tokens")
        with self._lock:
            self._usage["prompt_tokens"] += prompt_tokens or 0
            self._usage["completion_tokens"] += completion_tokens or 0
        if data["choices"][0].get("finish_reason") == "length":
            log.warning(
                "llm.truncated",
                url=self.url,
                problem_id=request.problem_id,
                stage=request.stage,
                attempt=request.attempt,
                completion_tokens=completion_tokens,
            )
        return Completion(text, prompt_tokens, completion_tokens)

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""
