"""Keep each response as it came off the wire, before decompression and redirects change it.

Placed next to the downloader (order 950), so its ``process_response`` runs first: it stores the
status, headers and still-encoded body in ``request.meta["nianbao_raw"]`` for the archive's WARC
record, and remembers redirect hops, which RedirectMiddleware would otherwise hide.
"""

from __future__ import annotations

from scrapy.http import Request, Response, TextResponse


def header_list(headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in headers.items() for v in vs]


class RawResponseMiddleware:
    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if request.meta.get("nianbao_from_archive"):
            return response
        headers = header_list(response.headers)
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
