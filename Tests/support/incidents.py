#!/usr/bin/python3
"""Makes a real ZooKeeper server write the log lines of the incidents doctor knows, with raw sockets.

    incidents.py too-many-connections HOST PORT COUNT   COUNT sessions, one after another, from this host
    incidents.py request-over-maxbuffer HOST PORT       a request whose length prefix says 2 MiB
    incidents.py abandoned-session HOST PORT TIMEOUT_MS a session opened, then its socket closed without
                                                        closeSession: the server expires it after TIMEOUT_MS
    incidents.py foreign-request HOST PORT http|kafka   the first bytes another protocol's client sends
    incidents.py connection-burst HOST PORT COUNT MAX ROUNDS
                                                        COUNT sockets opened at once, held until the server
                                                        closes one (past its maxClientCnxns MAX; 20 s at
                                                        most), closed; ROUNDS times (bare connections)
    incidents.py four-letter-word HOST PORT WORD        prints the server's answer to a four-letter word
    incidents.py occupy-port HOST PORT                  binds and listens on the port until killed (prints
                                                        "listening" once bound)

Prints one line saying what it did; exits 1 when the server did not answer as expected.
"""
import select
import socket
import struct
import sys
import time


def connect(host, port):
    return socket.create_connection((host, int(port)), timeout=10)


def too_many_connections(host, port, count):
    # The server counts a host's connections once its selector has registered them, after the accept: a
    # burst of connects can all be accepted. So each connection opens a session (registered once answered)
    # before the next; the one over maxClientCnxns is closed without an answer.
    sessions = []
    refused = 0
    for _ in range(int(count)):
        # A refusal shows as a connection closed before the answer, or reset while connecting or sending.
        try:
            sock = connect(host, port)
        except OSError:
            refused += 1
            continue
        try:
            answer = handshake(sock, 30000)
        except OSError:
            answer = None
        if answer is None:
            refused += 1
            sock.close()
        else:
            sessions.append(sock)
    for sock in sessions:
        # closeSession (type -11), so no session is left to expire.
        try:
            sock.sendall(struct.pack(">iii", 8, 1, -11))
        except OSError:
            pass
        sock.close()
    print("opened %d connections one after another, %d refused; sessions closed" % (int(count), refused))
    if refused == 0:
        print("the server refused none of them: is maxClientCnxns below %s?" % count)
        return 1
    return 0


def request_over_maxbuffer(host, port):
    sock = connect(host, port)
    sock.sendall(struct.pack(">i", 2 * 1024 * 1024) + b"\0" * 64)
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    sock.close()
    print("sent a 2 MiB length prefix; the server closed the connection: %s" % closed)
    return 0 if closed else 1


def abandoned_session(host, port, timeout_ms):
    # Connections of the burst before may not be unregistered yet (maxClientCnxns counts them): try again
    # until a deadline; each try is a round trip to the server.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if open_and_abandon(host, port, timeout_ms) == 0:
            return 0
    return 1


def handshake(sock, timeout_ms):
    """Sends a ConnectRequest and reads the answer: (session, negotiated timeout), None when closed unanswered."""
    # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (a buffer of 16 bytes).
    body = struct.pack(">iqiqi", 0, 0, int(timeout_ms), 0, 16) + b"\0" * 16
    sock.sendall(struct.pack(">i", len(body)) + body)
    data = b""
    while len(data) < 4:
        try:
            chunk = sock.recv(4 - len(data))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return None
        data += chunk
    (length,) = struct.unpack(">i", data)
    reply = b""
    while len(reply) < length:
        chunk = sock.recv(length - len(reply))
        if not chunk:
            return None
        reply += chunk
    _, negotiated, session = struct.unpack(">iiq", reply[:16])
    return session, negotiated


def open_and_abandon(host, port, timeout_ms):
    sock = connect(host, port)
    answer = handshake(sock, timeout_ms)
    sock.close()
    if answer is None:
        print("the server closed the connection before answering")
        return 1
    print("session 0x%x opened with a timeout of %d ms, then abandoned" % answer)
    return 0


# An HTTP request, and a Kafka producer's first request (ApiVersions v3, client id "producer-1",
# software name and version): what a misconfigured client sends to a ZooKeeper client port.
FOREIGN_REQUESTS = {
    "http": b"GET / HTTP/1.1\r\nHost: zk\r\n\r\n",
    "kafka": bytes.fromhex("0000002d0012000300000001000a70726f64756365722d310012617061636865")
    + b"-kafka-java\x063.6.1\x00",
}


def foreign_request(host, port, kind):
    sock = connect(host, port)
    sock.sendall(FOREIGN_REQUESTS[kind])
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    sock.close()
    print("sent a %s request; the server closed the connection: %s" % (kind, closed))
    return 0 if closed else 1


def closed_by_server(sock):
    """True once the server has closed the connection (end of stream or a reset); the socket is non-blocking."""
    try:
        return sock.recv(1) == b""
    except (BlockingIOError, socket.timeout):
        return False
    except OSError:
        return True


def connection_burst(host, port, count, most, rounds):
    refused = 0
    closed = 0
    for _ in range(int(rounds)):
        socks = []
        for _ in range(int(count)):
            try:
                sock = connect(host, port)
                sock.setblocking(False)
                socks.append(sock)
            except OSError:
                refused += 1
        # Held until the server has turned one away (its refusal is a log line), not for a fixed time: a loaded
        # server takes longer to get to them. A burst's connects can all be accepted before the server counts
        # them, so fewer than COUNT-MAX may ever be turned away: the first refusal is the marker.
        deadline = time.monotonic() + 20
        seen = set()
        while not seen and len(socks) > int(most) and time.monotonic() < deadline:
            select.select(socks, [], [], 0.2)
            seen.update(i for i, sock in enumerate(socks) if closed_by_server(sock))
        closed += len(seen)
        for sock in socks:
            sock.close()
    print("%s rounds of %s connections; %d closed by the server, %d refused at connect" % (rounds, count, closed, refused))
    return 0 if closed + refused > 0 else 1


def four_letter_word(host, port, word):
    try:
        sock = connect(host, port)
        sock.sendall(word.encode())
        answer = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        sock.close()
    except OSError as e:
        print("no answer: %s" % e)
        return 1
    sys.stdout.write(answer.decode(errors="replace"))
    return 0


def occupy_port(host, port):
    # SO_REUSEADDR as most servers set it: the port's connections in TIME_WAIT do not stop this bind, and
    # a second listener (ZooKeeper) still cannot bind it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(16)
    print("listening", flush=True)
    while True:
        conn, _ = sock.accept()
        conn.close()


def main():
    if len(sys.argv) < 4 or (sys.argv[1] in ("foreign-request", "four-letter-word") and len(sys.argv) < 5) \
            or (sys.argv[1] == "connection-burst" and len(sys.argv) < 7):
        print(__doc__)
        return 2
    command, host, port = sys.argv[1:4]
    if command == "too-many-connections":
        return too_many_connections(host, port, sys.argv[4])
    if command == "request-over-maxbuffer":
        return request_over_maxbuffer(host, port)
    if command == "abandoned-session":
        return abandoned_session(host, port, sys.argv[4])
    if command == "foreign-request":
        return foreign_request(host, port, sys.argv[4])
    if command == "connection-burst":
        return connection_burst(host, port, *sys.argv[4:7])
    if command == "four-letter-word":
        return four_letter_word(host, port, sys.argv[4])
    if command == "occupy-port":
        return occupy_port(host, port)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
