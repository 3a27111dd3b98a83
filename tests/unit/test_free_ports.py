"""The test servers' ports: free on 127.0.0.1, and never the same one twice in a process."""

import socket

from testkit.servers import free_port


def test_ports_handed_out_are_free_and_never_repeated():
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    for port in ports[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nobody listens there
