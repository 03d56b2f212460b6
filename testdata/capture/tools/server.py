#!/usr/bin/python3
"""HTTP/1.1 server for the capture recordings (Python's http.server, one
thread per connection, keep-alive). What it answers:

    /size/N        N bytes, Content-Length
    /chunked/N     N bytes, chunked, with a trailer
    /nocontent     204            /notmod    304
    /close         200 and Connection: close
    /upgrade       101 Switching Protocols (websocket), then raw bytes
    anything else  200, a small JSON body
    POST, PUT      reads the body (Content-Length or chunked), 201
    OPTIONS        204 with Allow

    server.py ADDRESS PORT
"""
import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rebindwatch-recorder/1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            n = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return n
                self.rfile.read(size)
                self.rfile.readline()
                n += size
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        return length

    def reply(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if code not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def route(self, head=False):
        path = self.path.split("?")[0]
        if path.startswith("/size/"):
            n = int(path[6:])
            return self.reply(200, (b"0123456789abcdef" * (n // 16 + 1))[:n], [("Content-Type", "application/octet-stream")], head)
        if path.startswith("/chunked/"):
            n = int(path[9:])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            left = n
            while left > 0:
                k = min(1000, left)
                self.wfile.write(b"%x\r\n" % k + b"c" * k + b"\r\n")
                left -= k
            self.wfile.write(b"0\r\nX-Checksum: 1\r\n\r\n")
            return
        if path == "/nocontent":
            return self.reply(204)
        if path == "/notmod":
            return self.reply(304, headers=[("ETag", '"v1"')])
        if path == "/close":
            self.close_connection = True
            return self.reply(200, b"bye\n", [("Connection", "close")], head)
        if path == "/upgrade" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            # Frames of the new protocol, one of them text that looks like HTTP.
            self.wfile.write(b"\x81\x05hello\x81\x12HTTP/1.1 200 OK\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            return
        body = b'{"path":"%s"}' % path.encode("ascii", "replace")[:200]
        self.reply(200, body, [("Content-Type", "application/json")], head)

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route(head=True)

    def do_DELETE(self):
        self.route()

    def do_POST(self):
        n = self.read_body()
        self.reply(201, b'{"received":%d}' % n, [("Content-Type", "application/json")])

    do_PUT = do_POST

    def do_OPTIONS(self):
        self.reply(204, headers=[("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS")])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that reset their connection on purpose


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    Server.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    Server((addr, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
