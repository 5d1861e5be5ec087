"""Faults between client and server, caused for real.

A push whose answer is lost on the way back (a proxy on loopback drops the connection once the server has
answered the upload): the client sends it again with the same Idempotency-Key and the server answers with
the version the first upload made. A refresh token another process already rotated: the stored pair is used."""

import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from registry.models import AuditEvent, ModelVersion

from client.tests.conftest import PASSWORD
from modelyard import AuthenticationError, Client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class DroppingProxy:
    """Relays TCP to the server; the first answer to an upload is thrown away and the connection closed."""

    def __init__(self, upstream: str) -> None:
        target = urlparse(upstream)
        self.upstream = (target.hostname, target.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.dropped = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            sent = bytearray()
            threading.Thread(target=self._pipe, args=(client, server, sent), daemon=True).start()
            threading.Thread(target=self._answers, args=(server, client, sent), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, seen: bytearray) -> None:
        try:
            while chunk := source.recv(65536):
                seen.extend(chunk[:4096])  # request lines and headers are enough to know the request
                sink.sendall(chunk)
        except OSError:
            pass

    def _answers(self, server: socket.socket, client: socket.socket, sent: bytearray) -> None:
        try:
            while chunk := server.recv(65536):
                with self.lock:
                    drop = not self.dropped and b"/versions HTTP/1.1" in sent
                    self.dropped += drop
                if drop:
                    break
                client.sendall(chunk)
        except OSError:
            pass
        for end in (client, server):  # shutdown first: it ends the other thread's recv and sends the FIN now
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxy(web: str) -> Iterator[DroppingProxy]:
    relay = DroppingProxy(web)
    yield relay
    relay.close()


def test_a_lost_answer_to_an_upload_makes_one_version(proxy, owner, team, iris_skops):
    with Client(proxy.url, username=owner.username, password=PASSWORD) as client:
        version = client.push("iris", iris_skops, team="acme")
    assert proxy.dropped == 1  # the first answer never reached the client
    assert version.number == 1 and ModelVersion.objects.count() == 1
    assert AuditEvent.objects.filter(action="version.create").count() == 1


def test_a_refresh_token_another_process_spent_is_taken_from_the_store(web, owner, team):
    """Two CLI commands at once, both holding one refresh token: the second adopts the pair the first stored."""
    with Client(web, username=owner.username, password=PASSWORD) as signed_in:
        store = {"pair": (signed_in.session.access, signed_in.session.refresh)}
    spent = store["pair"][1]

    def save(access: str | None, refresh: str | None) -> None:
        store["pair"] = (access, refresh)

    with Client(web, token="not-a-jwt", refresh_token=spent, on_tokens=save) as first:
        assert first.teams()[0]["slug"] == "acme"  # 401, refreshed: the spent token is blacklisted now
    assert store["pair"][1] != spent
    with Client(web, token="not-a-jwt", refresh_token=spent, on_tokens=save,
                stored_tokens=lambda: store["pair"]) as second:
        assert second.teams()[0]["slug"] == "acme"
        assert second.session.refresh == store["pair"][1]
    with pytest.raises(AuthenticationError, match="sign in again"), \
            Client(web, token="not-a-jwt", refresh_token=spent) as alone:  # nothing to fall back on
        alone.teams()
