// The worked example of Confirm's reseller guide (seed 000), unchanged but
// for the base URL and the credentials, which come from the environment:
// the `export` lines `go run ./cmd/verigate demo` prints set them all
// (BASE defaults to the demo's http://127.0.0.1:8080). Run with Node 18+:
//
//   BASE=http://127.0.0.1:8080 ACCESS_TOKEN=vgat_… SVC_EMAIL=svc@demo-reseller.test SVC_PASSWORD=… \
//     node examples/confirm-worked-example.mjs
const ACCESS_TOKEN = process.env.ACCESS_TOKEN;
const SVC_EMAIL = process.env.SVC_EMAIL;
const SVC_PASSWORD = process.env.SVC_PASSWORD;
const base = process.env.BASE || "http://127.0.0.1:8080";

for (const [name, value] of Object.entries({ ACCESS_TOKEN, SVC_EMAIL, SVC_PASSWORD })) {
  if (!value) {
    console.error(`${name} is not set: paste the export lines that \`go run ./cmd/verigate demo\` prints, then run this again.`);
    process.exit(2);
  }
}
// Outside the seed's example: a clear message when no server answers at BASE.
try {
  await fetch(`${base}/healthz`);
} catch (err) {
  console.error(`Cannot reach Verigate at ${base} (${err.cause?.code ?? err.cause?.message ?? err.message}).`);
  console.error("Start it with `go run ./cmd/verigate demo`, and set BASE to the URL it prints if that is not the default.");
  process.exit(1);
}

// 1. Service-account login
const login = await fetch(`${base}/external/token/request`, {
method: "POST",
headers: { "accessToken": ACCESS_TOKEN, "Content-Type": "application/json" },
body: JSON.stringify({ email: SVC_EMAIL, password: SVC_PASSWORD }),
}).then(r => r.json());
// 2. Work the queue for one institution
const queue = await fetch(`${base}/external/calls/queue`, {
headers: {
"SsoToken": login.token,
"InstitutionKey": "acme-cu",
"RequestedBy": "jdoe",
},
}).then(r => r.json());
console.log(queue.phoneCalls);
