"""Any OpenAI-compatible endpoint, through the official ``openai`` AsyncOpenAI client.

``openai`` costs about a second to import, so nothing here imports it at module level: the client
is built in a worker thread after ``initialized`` (``warm_up``), the route is probed (or read from
the endpoint cache) meanwhile, and requests await both futures.
Built-in retries and the 600 s timeout are off; the relay enforces first-token and idle timeouts.
Upstream exceptions are translated here, and only here, into ``inkstream.errors``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from inkstream.completion import prompts
from inkstream.completion.context import CompletionContext, ExplainRequest, Snippet
from inkstream.completion.privacy import (
    near_cursor,
    redact,
    redact_around_cursor,
    redact_parts,
)
from inkstream.completion.prompts import FimRoute, Route
from inkstream.config import Settings
from inkstream.errors import (
    InkstreamError,
    StreamBroken,
    UpstreamAuthError,
    UpstreamConnectionError,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from inkstream.providers import TextStream, http
from inkstream.providers.endpoint_cache import EndpointStyles, UsageOptionRefusals
from inkstream.relay import on_hang_up
from inkstream.usage.meter import RequestMeter

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from inkstream.nextedit.formats import ModelRequest

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest Retry-After (seconds) worth waiting for once; a user at the keyboard won't wait more.
MAX_RETRY_AFTER = 2.0
DUMMY_KEY = "not-needed"  # local servers need no key, but the client insists on one
#: LiteLLM's proxy without a database answers any key but its master key with 400 of this type
#: (it would look the key up in the database it lacks): a refused key
LITELLM_NO_DATABASE = "no_db_connection"
#: LiteLLM's proxy when the key's, user's or team's budget is spent (HTTP 422 in 1.108)
LITELLM_BUDGET = "budget_exceeded"

#: how each route asks (``prompts.Route``), for the log
ROUTE_DESCRIPTIONS: dict[Route, str] = {
    "server": "/v1/completions with suffix (the server's FIM template)",
    "template": "/v1/completions with a FIM prompt built here",
    "chat": "/v1/chat/completions (hole-filling prompt)",
}


def build_client(settings: Settings) -> AsyncOpenAI:
    """Construct the client; slow (imports openai), so run it in a worker thread."""
    import openai

    read_timeout = max(settings.first_token_timeout, settings.idle_timeout) + 5.0
    timeout = openai.Timeout(read_timeout, connect=settings.connect_timeout)
    client = openai.AsyncOpenAI(
        api_key=settings.api_key or DUMMY_KEY,
        base_url=settings.base_url,
        max_retries=0,
        timeout=timeout,
        http_client=http.build_http_client(settings, timeout),
    )
    client.completions  # noqa: B018  (touch the resources so the first request pays nothing)
    client.chat.completions  # noqa: B018
    import anyio  # noqa: F401  (httpx's transport imports it on the first connection otherwise)

    return client


class OpenAICompatProvider:
    name = "openai"

    def __init__(self, settings: Settings, styles: EndpointStyles | None = None) -> None:
        self._settings = settings
        self._styles = styles or EndpointStyles()
        self._client_future: asyncio.Future[AsyncOpenAI] | None = None
        self._route_task: asyncio.Task[Route] | None = None
        self._refusals = UsageOptionRefusals()
        self._usage_option: bool | None = None  # ask for the usage chunk? (None: not read yet)
        #: clients for next-edit endpoints other than the completion one (``nextEdit.baseUrl``)
        self._other_clients: dict[str, asyncio.Future[AsyncOpenAI]] = {}

    @property
    def endpoint(self) -> str:
        return self._settings.endpoint

    def warm_up(self) -> None:
        """Get ready for the first request in the background (called after ``initialized``).

        The client is built in a worker thread (importing openai takes about a second), and with
        ``apiStyle: auto`` the route is learnt meanwhile: read from the endpoint cache, or probed
        once the client exists. The first request then awaits both, usually already done.
        """
        loop = asyncio.get_running_loop()
        if self._client_future is None:
            self._client_future = loop.run_in_executor(None, build_client, self._settings)
        if self._route_task is None and self._settings.api_style == "auto":
            self._route_task = loop.create_task(self._probe_route())
            self._route_task.add_done_callback(self._route_settled)

    async def _client(self) -> AsyncOpenAI:
        self.warm_up()
        assert self._client_future is not None
        # shield: one cancelled request must not cancel the shared build for everyone
        return await asyncio.shield(self._client_future)

    async def ready(self, ctx: CompletionContext | None = None) -> None:  # noqa: ARG002
        await self._client()
        await self.resolve_route()

    async def resolve_route(self) -> Route:
        """How completions are asked for: the settings if explicit, else what probing found."""
        s = self._settings
        if s.api_style == "chat":
            return "chat"
        if s.api_style == "fim":
            return self._fim_routes()[0]
        self.warm_up()
        assert self._route_task is not None
        return await asyncio.shield(self._route_task)

    def _route_settled(self, task: asyncio.Task[Route]) -> None:
        """A failed probe is tried again by the next request (the engine may be starting)."""
        if task.cancelled() or task.exception() is not None:
            if self._route_task is task:
                self._route_task = None

    def _fim_routes(self) -> tuple[FimRoute, ...]:
        s = self._settings
        return prompts.fim_routes(s.model, s.fim_template, self.endpoint)

    async def _probe_route(self) -> Route:
        """Once per endpoint and model, try the FIM routes in order (see ``prompts.fim_routes``),
        then settle for chat. Only a conclusive answer is remembered, on disk and here."""
        s = self._settings
        loop = asyncio.get_running_loop()
        remembered = await loop.run_in_executor(None, self._styles.get, self.endpoint, s.model)
        if remembered is not None:
            logger.info("%s %s: using cached route %s", self.endpoint, s.model, remembered)
            return remembered
        route: Route = "chat"
        for candidate in self._fim_routes():
            answered = await self._probe_completions(suffix="\n" if candidate == "server" else None)
            if answered is None:
                self._route_task = None  # inconclusive: this request asks by chat, the next probes
                return "chat"
            if answered:
                route = candidate
                break
        description = ROUTE_DESCRIPTIONS[route]
        logger.info("%s %s: completions through %s", self.endpoint, s.model, description)
        await loop.run_in_executor(None, self._styles.put, self.endpoint, s.model, route)
        return route

    async def _probe_completions(self, *, suffix: str | None) -> bool | None:
        """Does ``/v1/completions`` answer (with ``suffix``, if given)? None: can't tell."""
        client = await self._client()
        import openai  # only now: the warm-up thread has finished importing it

        try:
            await client.completions.create(
                model=self._settings.model,
                prompt="def add(a, b):\n    return ",
                suffix=suffix if suffix is not None else openai.omit,
                max_tokens=1,
                timeout=self._settings.first_token_timeout,
            )
            return True
        except openai.APIStatusError as exc:
            if exc.status_code in (400, 404, 405, 422, 501) and not _litellm_refusal(exc):
                return False
            logger.warning("probing %s failed (HTTP %s)", self.endpoint, exc.status_code)
        except openai.OpenAIError as exc:
            logger.warning("probing %s failed (%s)", self.endpoint, exc)
        return None

    async def aclose(self) -> None:
        if self._route_task is not None:
            self._route_task.cancel()
        for future in (self._client_future, *self._other_clients.values()):
            if future is not None and future.done():
                if not future.cancelled() and future.exception() is None:
                    await future.result().close()

    async def _client_for(self, base_url: str | None) -> AsyncOpenAI:
        """The completion client, or one for another endpoint (same key, proxy, timeouts)."""
        if not base_url or base_url == self._settings.base_url:
            return await self._client()
        future = self._other_clients.get(base_url)
        if future is None:
            settings = dataclasses.replace(self._settings, base_url=base_url)
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(None, build_client, settings)
            self._other_clients[base_url] = future
        return await asyncio.shield(future)

    async def next_edit_ready(self, base_url: str | None = None) -> None:
        """Wait for the client of the next-edit endpoint (built in a thread: importing openai
        takes seconds on a loaded machine), so the relay's first-token timeout starts after."""
        await self._client_for(base_url)

    async def next_edit(
        self,
        request: ModelRequest,
        *,
        model: str,
        base_url: str | None = None,
        meter: RequestMeter | None = None,
    ) -> TextStream:
        """Stream a model's rewrite of a next-edit region: a raw ``/v1/completions`` prompt
        (Zeta, Sweep) or chat messages (Instinct, chat), as the format built it. The request
        was built from redacted text. ``meter.finish_reason`` tells a cut-off answer."""
        client = await self._client_for(base_url)
        where = base_url or self.endpoint
        meter = meter or RequestMeter("completion", where, model)
        meter.route = "template" if request.prompt is not None else "chat"
        if request.prompt is not None:
            meter.prompt_chars = len(request.prompt)
            stop = {"stop": list(request.stop)} if request.stop else {}
            deltas = self._stream_text(
                client,
                meter,
                endpoint=where,
                model=model,
                prompt=request.prompt,
                max_tokens=request.max_tokens,
                temperature=0.0,
                **stop,
            )
        else:
            chat = prompts.ChatPrompt(messages=request.messages or (), stop=request.stop)
            deltas = self._stream_chat(
                client,
                chat,
                request.max_tokens,
                meter,
                endpoint=where,
                model=model,
                temperature=0.0,
            )
        async for text in deltas:
            yield text

    async def complete(
        self,
        ctx: CompletionContext,
        max_tokens: int,
        meter: RequestMeter | None = None,
        *,
        temperature: float | None = None,
    ) -> TextStream:
        client = await self._client()
        s = self._settings
        temperature = s.temperature if temperature is None else temperature
        route = await self.resolve_route()
        ctx = redact_context(ctx)
        meter = meter or RequestMeter("completion", self.endpoint, s.model)
        meter.route = route
        if route != "chat":
            template = "server" if route == "server" else s.fim_template
            fim = prompts.build_fim_prompt(ctx, model=s.model, fim_template=template)
            extra: dict[str, Any] = {"suffix": fim.suffix} if fim.suffix is not None else {}
            if fim.stop:
                extra["stop"] = list(fim.stop)
            meter.prompt_chars = len(fim.prompt) + len(fim.suffix or "")
            deltas = self._stream_text(
                client,
                meter,
                model=s.model,
                prompt=fim.prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                **extra,
            )
        else:
            chat = prompts.build_chat_prompt(ctx)
            deltas = self._stream_chat(client, chat, max_tokens, meter, temperature=temperature)
        async for text in deltas:
            yield text

    async def explain(
        self, req: ExplainRequest, max_tokens: int, meter: RequestMeter | None = None
    ) -> TextStream:
        client = await self._client()
        req = redact_explain_request(req)
        meter = meter or RequestMeter("explain", self.endpoint, self._settings.model)
        meter.route = "chat"
        async for text in self._stream_chat(
            client, prompts.build_explain_prompt(req), max_tokens, meter
        ):
            yield text

    def _stream_text(
        self,
        client: AsyncOpenAI,
        meter: RequestMeter,
        *,
        endpoint: str | None = None,
        **create: Any,
    ) -> TextStream:
        """One ``/v1/completions`` stream (a FIM or raw prompt)."""
        return self._deltas(
            lambda usage: client.completions.create(stream=True, **create, **usage),
            meter,
            lambda choice: choice.text,
            endpoint=endpoint,
            model=create.get("model"),
        )

    def _stream_chat(
        self,
        client: AsyncOpenAI,
        chat: prompts.ChatPrompt,
        max_tokens: int,
        meter: RequestMeter,
        *,
        endpoint: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
    ) -> TextStream:
        """One ``/v1/chat/completions`` stream."""
        import openai
        from openai.types.chat import ChatCompletionMessageParam

        s = self._settings
        messages = cast(list[ChatCompletionMessageParam], list(chat.messages))
        meter.prompt_chars = sum(len(str(m.get("content", ""))) for m in chat.messages)
        return self._deltas(
            lambda usage: client.chat.completions.create(
                model=model or s.model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=s.temperature if temperature is None else temperature,
                stream=True,
                stop=list(chat.stop) if chat.stop else openai.omit,
                **usage,
            ),
            meter,
            lambda choice: choice.delta.content,
            endpoint=endpoint,
            model=model,
        )

    async def _deltas(
        self,
        open_stream: Callable[[dict[str, Any]], Awaitable[Any]],
        meter: RequestMeter,
        text_of: Callable[[Any], str | None],
        *,
        endpoint: str | None,
        model: str | None,
    ) -> TextStream:
        """The text of one upstream stream (``text_of`` a choice), metered, hung up on cancel;
        a failure becomes an error that says what to do (``_translate``)."""
        yielded = False
        try:
            stream = await self._create_metered(open_stream)
            async with stream, on_hang_up(partial(_drop_connection, stream.response)):
                async for chunk in stream:
                    if chunk.usage is not None:
                        meter.report(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.finish_reason:
                        meter.finish_reason = choice.finish_reason
                    if text := text_of(choice):
                        yielded = True
                        yield text
            meter.stream_ended = True
        except InkstreamError:
            raise
        except Exception as exc:
            raise self._translate(exc, midstream=yielded, endpoint=endpoint, model=model) from exc

    async def _create_metered(self, call: Callable[[dict[str, Any]], Awaitable[T]]) -> T:
        """Open the stream asking for a usage chunk, unless this endpoint refuses that option:
        then (400 naming it) ask again without, and remember, like the route probe."""
        import openai

        loop = asyncio.get_running_loop()
        if self._usage_option is None:
            refused = await loop.run_in_executor(None, self._refusals.refuses, self.endpoint)
            self._usage_option = not refused
        if not self._usage_option:
            return await self._create(lambda: call({}))
        try:
            return await self._create(lambda: call({"stream_options": {"include_usage": True}}))
        except openai.APIStatusError as exc:
            text = f"{_upstream_message(exc)} {exc.message}".lower()
            named = any(w in text for w in ("stream_options", "include_usage", "stream option"))
            if exc.status_code not in (400, 422) or not named:
                raise
        logger.info("%s refuses stream_options; counting tokens from the stream", self.endpoint)
        self._usage_option = False
        await loop.run_in_executor(None, self._refusals.remember, self.endpoint)
        return await self._create(lambda: call({}))

    async def _create(self, call: Callable[[], Awaitable[T]]) -> T:
        """Open the stream; on 429 wait once for a short Retry-After."""
        import openai

        try:
            return await call()
        except openai.RateLimitError as exc:
            wait = _retry_after(exc)
            if wait is None or wait > MAX_RETRY_AFTER:
                raise
            logger.info("rate limited by %s; retrying once after %.1f s", self.endpoint, wait)
            await asyncio.sleep(wait)
            return await call()

    def _translate(
        self,
        exc: Exception,
        *,
        midstream: bool,
        endpoint: str | None = None,
        model: str | None = None,
    ) -> InkstreamError:
        """Turn an upstream failure into an error that tells the user what to do."""
        import openai

        where = endpoint or self.endpoint
        model = model or self._settings.model
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = self._redact(_upstream_message(exc))
            if status == 407:
                return http.proxy_status_error(self._settings, status)
            refusal = _litellm_refusal(exc)
            if status in (401, 403) or refusal == LITELLM_NO_DATABASE:
                why = ": LiteLLM without a database accepts its master key only" * (status == 400)
                return UpstreamAuthError(
                    f"{where} rejected the API key (HTTP {status}{why}).",
                    hint="Set a valid key in INKSTREAM_API_KEY or with the editor's "
                    "'Set API Key' command.",
                    status=status,
                )
            if refusal == LITELLM_BUDGET:
                return UpstreamRateLimited(
                    f"{where} says the budget for this key is spent (HTTP {status}): {detail}",
                    hint="It is the gateway's limit, not inkstream's 'budget': ask whoever runs "
                    "the gateway.",
                    status=status,
                )
            if status == 404:
                return UpstreamNotFound(
                    f"{where} has no model {model!r} or no such route (HTTP 404): {detail}",
                    hint="Check the model name and that baseUrl ends in /v1; for a chat-only "
                    "endpoint set apiStyle to 'chat'.",
                    status=status,
                )
            if status == 429:
                wait = _retry_after(exc)
                after = f" for {wait:g} s" if wait is not None else ""
                return UpstreamRateLimited(
                    f"{where} is rate limiting requests (HTTP 429){after}.",
                    hint="Wait a moment before the next completion, or check your plan's limits.",
                    status=status,
                )
            if status >= 500:
                return UpstreamServerError(
                    f"{where} failed with HTTP {status}: {detail}",
                    hint="The model server had a problem; try again or check its logs.",
                    status=status,
                )
            return UpstreamServerError(
                f"{where} refused the request (HTTP {status}): {detail}",
                hint="Check model, apiStyle and maxTokens for this endpoint.",
                status=status,
            )
        if isinstance(exc, openai.APIConnectionError) and (
            transport := http.transport_error(exc, self._settings, where)
        ):
            return transport
        if isinstance(exc, openai.APITimeoutError):
            return UpstreamTimeout(
                f"{where} did not answer in time.",
                hint="Check that the server is up and the model loaded, or raise the timeouts.",
            )
        if isinstance(exc, openai.APIConnectionError):
            if midstream:
                return StreamBroken(
                    f"The stream from {where} was cut off midway.",
                    hint="The model server closed the connection; try again.",
                )
            return UpstreamConnectionError(
                f"Cannot connect to {where}.",
                hint="Is the model server running? Check baseUrl.",
            )
        if isinstance(exc, openai.APIError):
            return StreamBroken(
                f"{where} reported an error mid-stream: {self._redact(exc.message)}",
                hint="Try again; if it persists, check the model server's logs.",
            )
        if isinstance(exc, ValueError):  # a garbled SSE line raises a raw JSONDecodeError
            return StreamBroken(
                f"{where} sent a garbled stream (not valid JSON).",
                hint="The endpoint may not be OpenAI-compatible; check baseUrl.",
            )
        logger.exception("unexpected upstream failure")
        return UpstreamServerError(
            f"Request to {where} failed: {type(exc).__name__}", hint="See the server log."
        )

    def _redact(self, text: str) -> str:
        key = self._settings.api_key
        return text.replace(key, "***") if key else text


def _drop_connection(response: Any) -> None:
    """Shut the stream's socket now, so the model stops at once (see ``relay.HangUp``).

    Only on HTTP/1.1, where the connection carries this stream alone, and only while the
    response is open: a closed one may have handed its connection to another request.
    ``network_stream`` is httpcore's documented response extension for the raw connection.
    """
    if response.is_closed or response.http_version != "HTTP/1.1":
        return
    network = response.extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


def _litellm_refusal(exc: Any) -> str | None:
    """The ``type`` of a LiteLLM proxy's refusal for its own reasons (see ``LITELLM_NO_DATABASE``
    and ``LITELLM_BUDGET``): about the key, not about the route, so never "no FIM here"."""
    kind = getattr(exc, "type", None)
    return kind if kind in (LITELLM_NO_DATABASE, LITELLM_BUDGET) else None


def _upstream_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message") or body.get("error", {})
        if isinstance(msg, dict):
            msg = msg.get("message")
        if isinstance(msg, str):
            return msg[:200]
    return str(getattr(exc, "message", exc))[:200]


def _retry_after(exc: Any) -> float | None:
    try:
        return float(exc.response.headers.get("retry-after"))
    except (AttributeError, TypeError, ValueError):
        return None


#: how much of the file around code to explain is redacted, and so may be sent (its prompt takes
#: up to 3,000 tokens; see ``privacy.WINDOW_CHARS``)
EXPLAIN_WINDOW_CHARS = 16_000


def redact_context(ctx: CompletionContext) -> CompletionContext:
    """The copy of the context that may leave the machine: the text near the cursor (whole lines)
    and the snippets, with their secrets redacted."""
    prefix, suffix = redact_around_cursor(ctx.prefix, ctx.suffix)
    return dataclasses.replace(
        ctx,
        prefix=prefix,
        suffix=suffix,
        snippets=tuple(Snippet(s.path, redact(s.text)) for s in ctx.snippets),
    )


def redact_explain_request(req: ExplainRequest) -> ExplainRequest:
    """The copy of an explain request that may leave the machine: the code, and the file near
    it, with their secrets redacted."""
    start = req.full_text.find(req.code)
    if start < 0:
        return dataclasses.replace(req, code=redact(req.code), full_text=redact(req.full_text))
    before, after = near_cursor(
        req.full_text[:start], req.full_text[start + len(req.code) :], EXPLAIN_WINDOW_CHARS
    )
    before, code, after = redact_parts(before, req.code, after)
    return dataclasses.replace(req, code=code, full_text=before + code + after)
