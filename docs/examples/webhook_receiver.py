"""A webhook receiver for Parley: verify the signature, drop repeats, act once.

    pip install standardwebhooks
    PARLEY_WEBHOOK_SECRET=whsec_... python docs/examples/webhook_receiver.py   # :8080

Parley delivers at least once: a retry, a replay or a worker restarted mid-send can
send an event again, always with the same `webhook-id`. So the receiver answers 2xx
only once it has recorded the id, and ignores an id it has seen.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

verifier = Webhook(os.environ["PARLEY_WEBHOOK_SECRET"])
seen: set[str] = set()  # use a table with a unique key in a real application


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            event = verifier.verify(body, dict(self.headers))  # checks the HMAC and the timestamp (5 min)
        except WebhookVerificationError:
            self.send_response(400)
            self.end_headers()
            return
        webhook_id = self.headers["webhook-id"]
        if webhook_id not in seen:
            seen.add(webhook_id)
            print(event["type"], event["conversation"], json.dumps(event)[:200])
        self.send_response(204)  # any 2xx: delivered; anything else is retried
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8080), Receiver).serve_forever()  # noqa: S104 - an example server
