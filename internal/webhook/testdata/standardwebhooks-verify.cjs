// Verifies one message with the official Standard Webhooks JavaScript
// library (npm standardwebhooks), for npm_test.go.
//
// Usage: node standardwebhooks-verify.cjs PREFIX CASE.json
// PREFIX is where `npm install --prefix` put the package; CASE.json is
// {"secret": "whsec_…", "headers": {"webhook-id": …}, "body": "<base64>"}.
// Exits 0 when the message verifies, 1 when the library rejects it, and 2
// on anything else (the package missing, a malformed case), so a setup
// failure never passes for a rejection.
"use strict";
const fs = require("fs");
const path = require("path");

let sw;
try {
  sw = require(path.join(process.argv[2], "node_modules", "standardwebhooks"));
} catch (e) {
  console.error("cannot load standardwebhooks:", e.message);
  process.exit(2);
}
try {
  const c = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  new sw.Webhook(c.secret).verify(Buffer.from(c.body, "base64"), c.headers);
  console.log("verified");
  process.exit(0);
} catch (e) {
  if (e instanceof sw.WebhookVerificationError) {
    console.log("rejected:", e.message);
    process.exit(1);
  }
  console.error("error:", e && e.stack ? e.stack : e);
  process.exit(2);
}
