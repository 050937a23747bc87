"""policy_ask - one Postfix policy request, as smtpd sends it, and its answer.

As a program:  python3 policy_ask.py ADDRESS RCPT [SIZE [STATE]]
prints the first line of the answer (the action=... line). ADDRESS is a
TCP port on 127.0.0.1, or unix:PATH. SIZE defaults to 0, STATE to RCPT.

As a module (tests that hold many connections): request() builds the
request text, read_answer() reads one answer from a connected socket.
"""
import socket
import sys


def request(rcpt, size="0", state="RCPT"):
    """The request text, attributes as Postfix's smtpd sends them."""
    return ("request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\n"
            "recipient=%s\nsender=x@example.org\nsize=%s\ninstance=t.1\nqueue_id=Q1\n\n"
            % (state, rcpt, size))


def read_answer(sock):
    """One answer: the bytes up to the blank line (fewer if the peer left)."""
    buf = b""
    while not buf.endswith(b"\n\n"):
        d = sock.recv(4096)
        if not d:
            break
        buf += d
    return buf.decode()


def connect(address, timeout=20):
    """A connection to a port on 127.0.0.1 or to unix:PATH."""
    if address.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(address[5:])
        return s
    return socket.create_connection(("127.0.0.1", int(address)), timeout=timeout)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit("usage: policy_ask.py ADDRESS RCPT [SIZE [STATE]]")
    s = connect(args[0])
    s.sendall(request(args[1], *args[2:4]).encode())
    print(read_answer(s).split("\n")[0])
