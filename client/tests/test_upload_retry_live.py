"""A push whose answer is lost on the way back: the client sends it again with the same Idempotency-Key, and the
server answers with the version the first upload made. The fault is real: a proxy on loopback drops the
connection once the server has answered the upload."""

import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from registry.models import AuditEvent, ModelVersion

from client.tests.conftest import PASSWORD
from modelyard import Client

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
