"""Sending mail, and the local mail catcher used when no SMTP server is configured.

``SMTP_URL`` names the server and carries its login: ``smtp://user:pass@host:port`` (plain, port 25),
``smtp+starttls://…`` (upgrade to TLS, port 587) or ``smtps://…`` (TLS from the first byte, port 465).
User and password are percent-decoded, so a password with ``@`` or ``/`` is written ``%40`` / ``%2F``.

With ``SMTP_URL`` unset (a fresh machine), a message is written to ``BOBBIN_HOME/mail/*.eml``
instead of being sent, so the demo's error reports can be opened in any mail client. The run
command may also start :func:`serve`, a real SMTP server on 127.0.0.1 that writes what it
receives to the same directory, for tools that insist on talking SMTP.

Failures raise :class:`MailError` with one sentence a person can act on. The password never appears
in it, nor in a log line (it is registered with :func:`core.logging.register_secret`).
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import ssl
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import structlog
from aiosmtpd.controller import Controller

from core.logging import redact, register_secret

# Headers are folded only past RFC 5322's hard line limit: with the default 78, Python moves a subject
# holding a "quoted" site name whole onto a continuation line, which some readers show with a leading
# space. Put on a message after set_content (bodies are encoded and wrapped by then).
HEADER_POLICY = policy.default.clone(max_line_length=998)

if TYPE_CHECKING:
    import asyncio

    from aiosmtpd.smtp import SMTP as SMTPServer
    from aiosmtpd.smtp import Envelope
    from aiosmtpd.smtp import Session as SMTPSession

    from core.settings import Settings

log = structlog.get_logger()

# Long enough for a slow relay to accept a ~200 KB report, short enough that a task blocked on a dead
# server gives up well inside the broker's visibility timeout.
SMTP_TIMEOUT_SECONDS = 20.0
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
CATCHER_HOST = "127.0.0.1"


class MailError(Exception):
    """A message could not be sent (or written). The text is safe to log and to show a person."""


# --- sending ---------------------------------------------------------------------------------------


def send_message(msg: EmailMessage, settings: Settings) -> None:
    """Send ``msg`` through ``SMTP_URL``, or write it to ``settings.mail_dir`` when that is unset.

    Recipients are taken from the message's To / Cc / Bcc headers (smtplib's ``send_message``).
    """
    if not settings.smtp_url:
        path = write_eml(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")), settings.mail_dir)
        log.info("mail written to file (SMTP_URL is not set)", path=str(path), subject=msg.get("Subject"))
        return
    _send_smtp(msg, settings.smtp_url)


class _SmtpTarget:
    """The parts of an SMTP URL. ``__repr__`` leaves the password out, should one ever be printed."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise MailError("SMTP_URL must look like smtp://user:password@host:port (or smtps://, smtp+starttls://).")
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise MailError("SMTP_URL has a port that is not a number.") from None
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        # Both spellings: the decoded one is what smtplib sends, the raw one is what the URL holds.
        self._secrets = [s for s in (self.password, parts.password) if s]
        for secret in self._secrets:
            register_secret(secret)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def clean(self, text: str) -> str:
        """``text`` without the password, whatever a server or library put in it."""
        for secret in self._secrets:
            text = text.replace(secret, "****")
        return str(redact(text))

    def __repr__(self) -> str:
        return f"<SMTP {self.scheme}://{self.user + '@' if self.user else ''}{self.where}>"


def _send_smtp(msg: EmailMessage, url: str) -> None:
    target = _SmtpTarget(url)
    if not any(msg.get_all(h) for h in ("To", "Cc", "Bcc")):
        raise MailError("The message has no recipients.")
    try:
        refused = _deliver(msg, target)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            target.clean(
                f"The SMTP server {target.where} refused the login for user {target.user!r} "
                f"({_reply(exc)}); check the user and password in SMTP_URL."
            )
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(
            target.clean(
                f"The SMTP server {target.where} does not offer {exc}; SMTP_URL has a login, so the server "
                "probably wants TLS first (use smtp+starttls:// or smtps://)."
            )
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        who = ", ".join(f"{addr} ({code} {_text(reply)})" for addr, (code, reply) in exc.recipients.items())
        raise MailError(target.clean(f"The SMTP server {target.where} refused every recipient: {who}.")) from None
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(
            target.clean(
                f"The SMTP server {target.where} refused the sender {exc.sender!r} ({_reply(exc)}); check MAIL_FROM."
            )
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise MailError(
            target.clean(f"The SMTP server {target.where} answered with an error ({_reply(exc)}).")
        ) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise MailError(
            target.clean(
                f"The SMTP server {target.where} closed the connection ({exc or 'no reason given'}); "
                "check the scheme in SMTP_URL (smtps:// for port 465, smtp+starttls:// for 587)."
            )
        ) from None
    except smtplib.SMTPException as exc:
        raise MailError(target.clean(f"Sending mail through {target.where} failed ({exc}).")) from None
    except ssl.SSLError as exc:
        raise MailError(
            target.clean(
                f"TLS with the SMTP server {target.where} failed ({exc.reason or exc}); check the scheme "
                "in SMTP_URL and the server's certificate."
            )
        ) from None
    except TimeoutError:
        raise MailError(f"The SMTP server {target.where} did not answer within {SMTP_TIMEOUT_SECONDS:g} s.") from None
    except OSError as exc:
        raise MailError(
            target.clean(
                f"Cannot connect to the SMTP server {target.where} ({exc.strerror or exc}); check SMTP_URL "
                "and that the server is running."
            )
        ) from None
    if refused:
        log.warning("smtp server refused some recipients", refused=sorted(refused), server=target.where)
    log.info("mail sent", server=target.where, subject=msg.get("Subject"))


def _deliver(msg: EmailMessage, target: _SmtpTarget) -> dict[str, Any]:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if target.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        smtp.ehlo()
        if target.scheme == "smtp+starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if target.user:
            smtp.login(target.user, target.password or "")
        return dict(smtp.send_message(msg))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}".strip()


# --- writing .eml files ----------------------------------------------------------------------------


def eml_name() -> str:
    """``<timestamp>-<uuid>.eml``: names sort in the order messages arrived, and never collide."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex}.eml"


def write_eml(data: bytes, directory: Path) -> Path:
    """Write one message atomically (temp file + rename), so a reader never sees half a message."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / eml_name()
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise MailError(f"Could not write the e-mail to {directory} ({exc.strerror or exc}).") from None
    return path


# --- the local mail catcher ------------------------------------------------------------------------


class _EmlWriter:
    """aiosmtpd handler: every accepted message becomes one ``.eml`` file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTPServer, session: SMTPSession, envelope: Envelope) -> str:
        # The envelope is kept as headers on top: Bcc recipients are in no other header.
        head = (
            f"X-Bobbin-Envelope-From: {envelope.mail_from}\r\nX-Bobbin-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        content = envelope.original_content or b""
        try:
            path = write_eml(head + content, self.directory)
        except MailError as exc:
            log.error("mail catcher could not store a message", error=str(exc))
            return "451 Requested action aborted: cannot store the message"
        log.info("mail caught", path=str(path), to=list(envelope.rcpt_tos))
        return "250 Message accepted"


class _Controller(Controller):
    """aiosmtpd's threaded controller, able to listen on port 0 (a free port chosen by the OS).

    The stock controller connects to ``self.port`` once to check the server answers; with port 0
    it must first learn the port the OS picked."""

    def _trigger_server(self) -> None:
        # aiosmtpd types its server as an AbstractServer; the one it makes (loop.create_server) is an asyncio.Server
        server = cast("asyncio.Server | None", self.server)
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailCatcher:
    """A real SMTP server on 127.0.0.1 writing each message it receives into ``directory``.

    >>> catcher = MailCatcher(Path(".bobbin/mail"), port=0); catcher.start(); catcher.port
    """

    def __init__(self, directory: Path, port: int = 0, host: str = CATCHER_HOST) -> None:
        self.directory = Path(directory)
        self._controller = _Controller(
            _EmlWriter(self.directory), hostname=host, port=port, server_hostname="bobbin-mail-catcher"
        )

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """The ``SMTP_URL`` that reaches this catcher."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailCatcher:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        log.info("mail catcher listening", address=f"{self.host}:{self.port}", directory=str(self.directory))
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve(directory: Path, port: int) -> None:
    """Run the mail catcher in the foreground until SIGINT / SIGTERM (the run command's process)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with MailCatcher(Path(directory), port=port):
        stop.wait()
    log.info("mail catcher stopped")


def main(argv: list[str] | None = None) -> None:
    """``python -m core.mail [--port 1025] [--dir .bobbin/mail]``."""
    from core.logging import configure
    from core.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m core.mail", description=main.__doc__)
    parser.add_argument("--port", type=int, default=1025, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--dir", type=Path, default=settings.mail_dir, help="where .eml files go")
    args = parser.parse_args(argv)
    configure(settings.log_level, settings.log_format)
    serve(args.dir, args.port)


if __name__ == "__main__":
    main()
