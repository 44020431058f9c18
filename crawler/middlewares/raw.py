"""Keep each response as it came off the wire, before decompression and redirects change it.

Placed next to the downloader (order 950), so its ``process_response`` runs first: it stores the
status, headers and still-encoded body in ``request.meta["nianbao_raw"]`` for the archive's WARC
record, and remembers redirect hops, which RedirectMiddleware would otherwise hide.

A page rendered in Chromium is not what the server sent: its body is the browser's DOM. The server's
validators and length (ETag, Last-Modified, Content-Length, Content-Encoding) describe other bytes, so
the capture keeps them only under ``X-Archive-Orig-`` (the WARC writer's convention for a header no
longer true of the body) and says it is a rendering: a recrawl must not ask "changed?" with a
rendering's validators, nor take the rendering for the served file.
"""

from __future__ import annotations

from scrapy.http import Request, Response, TextResponse

from archive.warc.writer import ORIG_PREFIX

NOT_OF_A_RENDERING = frozenset({"etag", "last-modified", "content-length", "content-encoding", "transfer-encoding",
                                "content-md5", "digest"})
RENDERED = ("X-Nianbao-Rendered", "chromium")


def header_list(headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in headers.items() for v in vs]


def rendered_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of a browser rendering: the served body's validators and length moved aside."""
    out = [(ORIG_PREFIX + k, v) if k.lower() in NOT_OF_A_RENDERING else (k, v) for k, v in headers]
    return [*out, RENDERED]


class RawResponseMiddleware:
    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if request.meta.get("nianbao_from_archive"):
            return response
        headers = header_list(response.headers)
        if "playwright" in response.flags:
            headers = rendered_headers(headers)
        if 300 <= response.status < 400 and response.headers.get("Location"):
            request.meta.setdefault("nianbao_hops", []).append(
                {"url": response.url, "status": response.status, "headers": headers})
        request.meta["nianbao_raw"] = {
            "status": response.status, "headers": headers, "body": response.body,
            "protocol": getattr(response, "protocol", None) or "HTTP/1.1",
            "ip": str(response.ip_address) if getattr(response, "ip_address", None) else None,
        }
        if isinstance(response, TextResponse) and response.headers.get("Content-Encoding"):
            # HttpCompressionMiddleware's replace() reads .encoding of the still-compressed body, which for a
            # page without a charset in its header runs charset detection over gzip bytes (4% of the crawl's
            # time in bench/crawl.py). A plain Response has no encoding; the right class is chosen after decoding.
            response = Response(url=response.url, status=response.status, headers=response.headers,
                                body=response.body, flags=response.flags, request=response.request,
                                certificate=response.certificate, ip_address=response.ip_address,
                                protocol=response.protocol)
        return response
