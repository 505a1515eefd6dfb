"""The ports a test or benchmark stack is handed stay its own until its services bind them.

A port the kernel picks is one of its ephemeral ports, which any outgoing connection may take in the
moment before the service binds it (a clean-clone run failed once on "model server: port ... is
already in use"). `free_port` hands out ports the kernel never gives to a connection.
"""

from __future__ import annotations

import socket

from bot.stack import ephemeral_ports, free_port


def test_handed_out_ports_are_free_distinct_and_never_ephemeral() -> None:
    ephemeral = ephemeral_ports()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert not [port for port in ports if port in ephemeral]
    for port in ports[:20]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # still free: nothing else was given it


def test_outgoing_connections_never_land_on_a_handed_out_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        clients = [socket.create_connection(server.getsockname()) for _ in range(50)]
        try:
            local = {client.getsockname()[1] for client in clients}
            assert all(port in ephemeral_ports() for port in local)
            assert not local & {free_port() for _ in range(50)}
        finally:
            for client in clients:
                client.close()
