"""The ceiling: the smallest WSGI app, served by the same waitress settings as the service."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
